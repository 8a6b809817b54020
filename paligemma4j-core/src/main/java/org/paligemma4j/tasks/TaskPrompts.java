package org.paligemma4j.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The task prefixes the PaliGemma checkpoints were trained on: {@code caption en}, {@code answer en <question>},
 * {@code ocr}, {@code detect cat ; dog}, {@code segment cat}. Arguments are checked here so that a bad label or
 * language code fails before the model runs, with a message that names it.
 */
public final class TaskPrompts {

    /** How the prompts and the model's outputs separate several objects. */
    public static final String LABEL_SEPARATOR = " ; ";

    private static final Pattern LANGUAGE = Pattern.compile("[a-z]+(?:-[a-z]+)*");

    private TaskPrompts() {}

    /** {@code caption <lang>}. */
    public static String caption(String language) {
        return "caption " + checkLanguage(language);
    }

    /** {@code answer <lang> <question>}, the question stripped of surrounding white space. */
    public static String answer(String language, String question) {
        checkLanguage(language);
        if (question == null || question.isBlank()) throw new IllegalArgumentException("the question is empty");
        return "answer " + language + " " + question.strip();
    }

    public static String ocr() {
        return "ocr";
    }

    /** {@code detect a ; b ; …}. */
    public static String detect(List<String> labels) {
        return "detect " + String.join(LABEL_SEPARATOR, checkLabels(labels));
    }

    /** {@code segment a ; b ; …}. */
    public static String segment(List<String> labels) {
        return "segment " + String.join(LABEL_SEPARATOR, checkLabels(labels));
    }

    /**
     * The labels of a user's {@code "cat ; dog"} (or {@code "cat;dog"}): split at semicolons, each stripped.
     *
     * @throws IllegalArgumentException if a label is empty or holds a character the output format reserves
     */
    public static List<String> splitLabels(String text) {
        if (text == null) throw new IllegalArgumentException("no labels given");
        return checkLabels(List.of(text.split(";", -1)));
    }

    /**
     * The labels stripped of surrounding white space, refusing what would make the prompt ambiguous: an empty
     * label, or {@code ;} (the object separator), {@code <} / {@code >} (they start location tokens and end the
     * label in the output grammar), or a line break (the prompt ends at the first one).
     */
    public static List<String> checkLabels(List<String> labels) {
        if (labels == null || labels.isEmpty()) throw new IllegalArgumentException("no labels given");
        List<String> out = new ArrayList<>(labels.size());
        for (int i = 0; i < labels.size(); i++) {
            String label = labels.get(i) == null ? "" : labels.get(i).strip();
            if (label.isEmpty()) {
                throw new IllegalArgumentException("label " + (i + 1) + " of " + labels.size() + " is empty"
                        + (labels.size() > 1 ? " (labels are separated by ';')" : ""));
            }
            for (char c : new char[] {';', '<', '>', '\n', '\r'}) {
                if (label.indexOf(c) >= 0) {
                    throw new IllegalArgumentException("label '" + label.replace("\n", "\\n").replace("\r", "\\r")
                            + "' contains " + describe(c) + ", which the output format reserves");
                }
            }
            out.add(label);
        }
        return List.copyOf(out);
    }

    /** A language code as the checkpoints know them: lowercase letters, optionally hyphenated ({@code en}, {@code zh-cn}). */
    public static String checkLanguage(String language) {
        if (language == null || !LANGUAGE.matcher(language).matches()) {
            throw new IllegalArgumentException("language must be a code of lowercase letters and hyphens such as en, de"
                    + " or zh-cn, got " + (language == null ? "none" : "'" + language + "'"));
        }
        return language;
    }

    private static String describe(char c) {
        return switch (c) {
            case '\n', '\r' -> "a line break";
            default -> "'" + c + "'";
        };
    }
}
