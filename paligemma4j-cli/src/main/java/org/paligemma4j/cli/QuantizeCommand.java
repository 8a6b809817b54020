package org.paligemma4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.model.QuantizedCheckpoint;
import org.paligemma4j.tensor.WeightFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Quantize a model's weight matrices to int8 (q8) or int4 (q4, with an int8 LM head) and save it,",
                "so that it re-opens quantized without quantizing again. Norms, biases and embeddings of positions",
                "are kept as stored; config, tokenizer and preprocessing files are copied."})
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|NPZ",
            description = "Source model directory, a Hub id owner/name[@revision], or a big_vision .npz.")
    Path model;

    @Option(names = "--config", paramLabel = "FILE", description = "Hugging Face config.json to use instead of the model's.")
    Path config;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.model or tokenizer.json to use instead of the "
            + "model's (needed with an .npz, so that the copy is a complete model directory).")
    Path tokenizer;

    @Option(names = "--quant", required = true, paramLabel = "q8|q4", description = "Weight format to save.")
    String quant;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (created if needed).")
    Path out;

    @Override
    public Integer call() throws Exception {
        WeightFormat format;
        try {
            format = WeightFormat.parse(quant);
        } catch (IllegalArgumentException e) {
            throw new CliException("--quant: " + e.getMessage());
        }
        if (format == WeightFormat.AS_STORED) throw new CliException("--quant must be q8 or q4");
        model = HubModels.resolveIfHubId(model);
        ModelSource source = ModelSource.of(model).withConfig(config).withTokenizer(tokenizer).withNotes(System.err::println);
        if (source.isBigVision() && tokenizer == null) {
            throw new CliException(model + ": a big_vision checkpoint has no tokenizer; pass --tokenizer FILE so that the "
                    + "quantized copy is a complete model directory");
        }
        if (tokenizer != null && !Files.isRegularFile(tokenizer)) throw new CliException(tokenizer + ": no such tokenizer file");
        long t0 = System.nanoTime();
        try (PaliGemmaModel m = PaliGemmaModel.open(source, format)) {
            var files = QuantizedCheckpoint.save(m, out);
            // The copy re-opens on its own: its config is the one the weights were bound to (inferred or fitted for an
            // npz, or the --config given), its tokenizer the one given.
            if (source.isBigVision() || config != null) Files.writeString(out.resolve("config.json"), m.config().toJson());
            if (tokenizer != null) {
                String name = tokenizer.getFileName().toString();
                String as = name.endsWith(".json.gz") ? "tokenizer.json.gz" : name.endsWith(".json") ? "tokenizer.json" : "tokenizer.model";
                for (String other : new String[] {"tokenizer.model", "tokenizer.json", "tokenizer.json.gz"}) {
                    Files.deleteIfExists(out.resolve(other));
                }
                Files.copy(tokenizer, out.resolve(as));
            }
            long bytes = 0;
            for (Path f : files) bytes += Files.size(f);
            System.out.printf(Locale.ROOT, "wrote %s: %s weights, %.3f GB in %d file(s), %.1f s%n", out, format.cliName(),
                    bytes / 1e9, files.size(), (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }
}
