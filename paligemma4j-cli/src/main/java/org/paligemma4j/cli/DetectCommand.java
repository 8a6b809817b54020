package org.paligemma4j.cli;

import java.util.List;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.DetectResult;
import org.paligemma4j.tasks.PaliGemmaTasks;
import org.paligemma4j.tasks.Segment;
import picocli.CommandLine.Command;

@Command(name = "detect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Find objects and their boxes (prompt \"detect cat ; dog\").",
                "The raw output streams to stdout, then one line per object: label, box in pixels of the original"
                        + " image (big_vision: pixel = (int) (loc / 1023 * size), max exclusive), location tokens and"
                        + " validity. Malformed objects are listed as INVALID, not dropped.",
                "With --json one object is printed at the end, with the fields",
                "  task, prompt, image {path, width, height}, text, ids, stopped_on_eos,",
                "  drawing (with --draw) and objects: [{label, loc [y1,x1,y2,x2], seg,",
                "  box {x_min, y_min, x_max, y_max}, valid}] (as decode-output prints them)."},
        footer = {"", "Examples:",
                "  paligemma detect --model paligemma2-3b-mix-448 street.jpg \"car ; bicycle\" \\",
                "      --draw boxes.png",
                "  paligemma detect street.jpg car --json      (model from $PALIGEMMA_MODEL)"})
final class DetectCommand extends ObjectsCommand<DetectResult> {
    @Override
    DetectResult run(PaliGemmaTasks tasks, RgbImage picture) {
        return tasks.detect(picture, labels);
    }

    @Override
    List<Segment> objects(DetectResult result) {
        return result.objects().stream().map(d -> new Segment(d, null)).toList();
    }
}
