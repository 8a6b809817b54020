package org.paligemma4j.cli;

import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.PaliGemmaTasks;
import org.paligemma4j.tasks.TextResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "caption", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Describe an image (prompt \"caption <lang>\").",
                "The caption streams to stdout as it is generated; with --json one object is printed at the end."},
        footer = {"", "Examples:",
                "  paligemma caption --model paligemma2-3b-mix-224 cat.jpg",
                "  paligemma caption cat.jpg --lang de --json   (model from $PALIGEMMA_MODEL)"})
final class CaptionCommand extends TaskCommand<TextResult> {
    @Mixin
    LanguageOption language;

    @Override
    void prepare() {
        language.checked(this);
    }

    @Override
    TextResult run(PaliGemmaTasks tasks, RgbImage picture) {
        return tasks.caption(picture, language.language);
    }
}
