package org.paligemma4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
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
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Source model directory, or a Hub id owner/name[@revision].")
    Path model;

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
        long t0 = System.nanoTime();
        try (PaliGemmaModel m = PaliGemmaModel.open(model, format)) {
            var files = QuantizedCheckpoint.save(m, out);
            long bytes = 0;
            for (Path f : files) bytes += java.nio.file.Files.size(f);
            System.out.printf(Locale.ROOT, "wrote %s: %s weights, %.3f GB in %d file(s), %.1f s%n", out, format.cliName(),
                    bytes / 1e9, files.size(), (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }
}
