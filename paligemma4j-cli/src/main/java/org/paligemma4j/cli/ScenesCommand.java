package org.paligemma4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.paligemma4j.scenes.SceneDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "scenes", mixinStandardHelpOptions = true,
        description = {"Write synthetic scenes (shapes in colours, sometimes a word) with training texts in PaliGemma's task formats.",
                "DIR/images/*.png, DIR/data.jsonl ({\"image\", \"prefix\", \"suffix\"} per example, for 'train'),"
                        + " DIR/truth.jsonl (objects with shape, colour and pixel box [y_min, x_min, y_max, x_max]; the word; the caption).",
                "Tasks: caption en, answer en how many <shapes> are there?, answer en what colour is the <shape>?, ocr,"
                        + " detect <colour> <shape>, detect <shape> ; <shape>.",
                "The same seed gives the same files; scene i depends only on (seed, i, size, style)."})
final class ScenesCommand implements Callable<Integer> {

    @Option(names = "--count", required = true, paramLabel = "N", description = "Number of scenes (pictures).")
    int count;

    @Option(names = "--seed", required = true, paramLabel = "S", description = "Random seed.")
    long seed;

    @Option(names = "--size", defaultValue = "224", paramLabel = "PX", description = "Picture width and height (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (created if needed).")
    Path out;

    @Option(names = "--style", defaultValue = "standard", paramLabel = "NAME",
            description = "standard (objects 14-38% of the side, words at 13-18% in 35% of scenes) or large (objects 20-40%,"
                    + " words at 20-26% in half of the scenes); default: ${DEFAULT-VALUE}.")
    String style;

    @Override
    public Integer call() throws Exception {
        if (count < 1) throw new CliException("--count must be at least 1, got " + count);
        if (size < 32 || size > 4096) throw new CliException("--size must be 32..4096 pixels, got " + size);
        org.paligemma4j.scenes.SceneGenerator.Style drawn;
        try {
            drawn = org.paligemma4j.scenes.SceneGenerator.Style.named(style);
        } catch (IllegalArgumentException e) {
            throw new CliException("--style: " + e.getMessage());
        }
        long start = System.nanoTime();
        SceneDataset.Summary s = SceneDataset.write(out, count, seed, size, drawn, null);
        System.out.printf(java.util.Locale.ROOT, "wrote %s: %d scenes, %d examples in %s, %.1f s%n", out, s.scenes(),
                s.examples(), SceneDataset.DATA, (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
