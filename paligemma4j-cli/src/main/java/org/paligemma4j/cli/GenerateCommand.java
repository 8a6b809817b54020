package org.paligemma4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.io.ModelSource;
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

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() throws IOException {
        ModelSource source = model.source();
        var options = sampling.toOptions(model);
        RgbImage picture = ImageLoader.load(image);
        try (ModelSession session = ModelSession.open(source, output)) {
            PaliGemma.Output result = session.model().generate(picture, prompt, options, session.listener());
            if (output.json) {
                String ids = Arrays.stream(result.ids()).mapToObj(Integer::toString).collect(Collectors.joining(","));
                session.out().println("{\"ids\":[" + ids + "],\"text\":\"" + Json.escape(result.text()) + "\"}");
            } else {
                session.endStreaming();
            }
            session.reportTimings(result);
        }
        return 0;
    }
}
