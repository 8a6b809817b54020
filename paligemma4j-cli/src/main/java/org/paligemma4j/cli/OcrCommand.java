package org.paligemma4j.cli;

import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.PaliGemmaTasks;
import org.paligemma4j.tasks.TextResult;
import picocli.CommandLine.Command;

@Command(name = "ocr", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Read the text in an image (prompt \"ocr\").",
                "The text streams to stdout as it is generated; with --json one object is printed at the end."},
        footer = {"", "Example:", "  paligemma ocr --model paligemma2-3b-mix-448 receipt.png --max-new-tokens 200"})
final class OcrCommand extends TaskCommand<TextResult> {
    @Override
    TextResult run(PaliGemmaTasks tasks, RgbImage picture) {
        return tasks.ocr(picture);
    }
}
