package org.paligemma4j.spark;

import java.util.Locale;
import org.paligemma4j.tasks.TaskPrompts;

/**
 * What the model is asked to do with each image, and how a task's argument becomes the prompt: exactly as the
 * command line's {@code caption}, {@code ask}, {@code ocr}, {@code detect}, {@code segment} and {@code generate}
 * build theirs (through {@link TaskPrompts}), so a row's result equals the command line's for the same image.
 */
public enum ImageTask {
    /** {@code caption <lang>}; the argument, if any, is the language code (or the whole {@code caption <lang>}). */
    CAPTION,
    /** {@code answer <lang> <question>}; the argument is the question. */
    ANSWER,
    /** {@code ocr}; takes no argument (or {@code ocr} itself). */
    OCR,
    /** {@code detect a ; b}; the argument is the labels, separated by {@code ;}. */
    DETECT,
    /** {@code segment a ; b}; the argument is the labels; masks need big_vision's mask VQ-VAE. */
    SEGMENT,
    /** The argument is the raw prompt, given to the model as it is. */
    GENERATE;

    /** The task named {@code name} (case-insensitive; {@code ask} is {@link #ANSWER}). */
    public static ImageTask parse(String name) {
        if (name == null) throw new IllegalArgumentException("no task given: use caption, answer, ocr, detect, segment or generate");
        String n = name.strip().toLowerCase(Locale.ROOT);
        if (n.equals("ask")) return ANSWER;
        for (ImageTask t : values()) if (t.name().toLowerCase(Locale.ROOT).equals(n)) return t;
        throw new IllegalArgumentException("unknown task '" + name + "': use caption, answer, ocr, detect, segment or generate");
    }

    /** Whether the output is parsed into objects (boxes, and masks for segment). */
    public boolean findsObjects() {
        return this == DETECT || this == SEGMENT;
    }

    /**
     * The prompt for this task.
     *
     * @param argument the labels, the question, the raw prompt, or (caption) a language code; null when none
     * @param language the output language of caption and answer (e.g. {@code en})
     * @throws IllegalArgumentException naming what is missing or wrong
     */
    public String prompt(String argument, String language) {
        boolean none = argument == null || argument.isBlank();
        return switch (this) {
            case CAPTION -> {
                // The argument is a language code; the whole task prompt ("caption de") is taken too.
                String a = none ? language : argument.strip();
                yield TaskPrompts.caption(a.startsWith("caption ") ? a.substring("caption ".length()).strip() : a);
            }
            case ANSWER -> {
                if (none) throw new IllegalArgumentException("answer needs a question (the prompt)");
                yield TaskPrompts.answer(language, argument);
            }
            case OCR -> {
                if (!none && !argument.strip().equals("ocr")) throw new IllegalArgumentException("ocr takes no prompt, got '" + argument + "'");
                yield TaskPrompts.ocr();
            }
            case DETECT -> {
                if (none) throw new IllegalArgumentException("detect needs labels (the prompt), e.g. \"cat ; dog\"");
                yield TaskPrompts.detect(TaskPrompts.splitLabels(argument));
            }
            case SEGMENT -> {
                if (none) throw new IllegalArgumentException("segment needs labels (the prompt), e.g. \"cat\"");
                yield TaskPrompts.segment(TaskPrompts.splitLabels(argument));
            }
            case GENERATE -> {
                if (argument == null || argument.isEmpty()) throw new IllegalArgumentException("generate needs a prompt");
                yield argument;
            }
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
