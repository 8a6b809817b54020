package org.paligemma4j.cli;

import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.PaliGemmaTasks;
import org.paligemma4j.tasks.TaskPrompts;
import org.paligemma4j.tasks.TextResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "ask", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Answer a question about an image (prompt \"answer <lang> <question>\").",
                "The answer streams to stdout as it is generated; with --json one object is printed at the end."},
        footer = {"", "Examples:",
                "  paligemma ask --model paligemma2-3b-mix-224 street.jpg \"how many cars are there?\"",
                "  paligemma ask street.jpg \"welche Farbe hat das Auto?\" --lang de"})
final class AskCommand extends TaskCommand<TextResult> {
    @Parameters(index = "1", paramLabel = "QUESTION", description = "The question, in quotes.")
    String question;

    @Mixin
    LanguageOption language;

    @Override
    void prepare() {
        try {
            TaskPrompts.answer(language.checked(this), question);
        } catch (IllegalArgumentException e) {
            throw usageError(e.getMessage());
        }
    }

    @Override
    TextResult run(PaliGemmaTasks tasks, RgbImage picture) {
        return tasks.answer(picture, question, language.language);
    }
}
