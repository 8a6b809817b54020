package org.paligemma4j.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Python's {@code str.strip()} and {@code str.split()}, which the reference scorers use: both treat exactly the
 * characters of {@code str.isspace()} as whitespace (Java's {@code isWhitespace} plus the no-break spaces and NEL).
 */
final class PythonText {
    private PythonText() {}

    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || c == '\u0085' || c == '\u00A0' || c == '\u2007' || c == '\u202F';
    }

    /** {@code s.strip()}. */
    static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isSpace(s.charAt(start))) start++;
        while (end > start && isSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    /** {@code s.split()}: the runs of non-space characters. */
    static List<String> split(String s) {
        List<String> words = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            while (i < s.length() && isSpace(s.charAt(i))) i++;
            int start = i;
            while (i < s.length() && !isSpace(s.charAt(i))) i++;
            if (i > start) words.add(s.substring(start, i));
        }
        return words;
    }
}
