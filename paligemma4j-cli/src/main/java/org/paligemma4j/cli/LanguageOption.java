package org.paligemma4j.cli;

import org.paligemma4j.tasks.TaskPrompts;
import picocli.CommandLine.Option;

/** The --lang option of caption and ask. */
final class LanguageOption {
    @Option(names = "--lang", paramLabel = "CODE", defaultValue = "en",
            description = "Language code of the output, e.g. en, de, fr, zh (default: ${DEFAULT-VALUE}).")
    String language;

    /** The language, or a usage error naming what is wrong with it. */
    String checked(TaskCommand<?> command) {
        try {
            return TaskPrompts.checkLanguage(language);
        } catch (IllegalArgumentException e) {
            throw command.usageError("--lang: " + e.getMessage());
        }
    }
}
