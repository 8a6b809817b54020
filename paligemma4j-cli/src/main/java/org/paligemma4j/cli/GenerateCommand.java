package org.paligemma4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate text for an image and a raw prompt (e.g. \"caption en\", \"answer en what is this?\", \"detect cat\").",
                "Tokens stream to stdout as they are generated; with --json one object {\"ids\":[…],\"text\":\"…\"} is printed at the end."})
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--image", required = true, paramLabel = "IMG", description = "Image file (PNG, JPEG, GIF, BMP, WebP).")
    Path image;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The task prefix, e.g. \"caption en\".")
    String prompt;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--json", description = "Print one JSON object with the generated ids and text.")
    boolean json;

    @Option(names = "--verbose", description = "Print timings (image encode, prefill, tokens/s) to stderr.")
    boolean verbose;

    @Override
    public Integer call() throws IOException {
        Path dir = model.resolve();
        var options = sampling.toOptions(model);
        RgbImage picture = ImageLoader.load(image);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        long t0 = System.nanoTime();
        try (PaliGemma pg = ModelLoading.open(dir, verbose)) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            var decoder = pg.tokenizer().newStreamingDecoder();
            PaliGemma.Output result = pg.generate(picture, prompt, options, json ? null : id -> out.print(decoder.accept(id)));
            if (json) {
                String ids = Arrays.stream(result.ids()).mapToObj(Integer::toString).collect(Collectors.joining(","));
                out.println("{\"ids\":[" + ids + "],\"text\":\"" + Json.escape(result.text()) + "\"}");
            } else {
                out.print(decoder.flush());
                out.println();
            }
            if (verbose) {
                var t = result.timings();
                System.err.printf(Locale.ROOT, "load %.2f s | image encode %.2f s | prefill %.2f s for %d tokens | %d tokens decoded at %.2f tok/s%n",
                        loadSeconds, result.imageSeconds(), t.prefillSeconds(), result.promptTokens(), t.decodedTokens(),
                        t.decodedTokens() == 0 ? 0 : t.decodedTokens() / t.decodeSeconds());
            }
        }
        return 0;
    }
}
