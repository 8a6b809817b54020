package org.paligemma4j.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a PaliGemma detect/segment output such as
 * {@code <loc0100><loc0200><loc0700><loc0900> cat ; <loc0050>...<seg012>... dog} into typed items.
 *
 * <p>The string grammar is the one of the Hugging Face Space {@code big-vision/paligemma-hf}, which every port
 * copies: per object, in Python {@code re} syntax,
 * <pre>(.*?)&lt;loc(\d{4})&gt;×4 \s* (?:&lt;seg(\d{3})&gt;×16)? \s* ([^;&lt;&gt;]+)? ?(?:; )?</pre>
 * matched at the start of the remaining text until it fails. Leading text and an unmatched tail become
 * {@link TextItem}s. Validity and coordinates follow big_vision (see {@link Detection}).
 *
 * <p>The Java pattern spells out what Python's classes mean, because Java's differ: Python's {@code .}
 * excludes only {@code \n} (Java's also excludes {@code \r}, U+0085, U+2028...), and Python's {@code \s} and
 * {@code \d} are Unicode ({@code \s} = {@code str.isspace()}, which also covers U+001C..U+001F and U+00A0).
 */
public final class DetectionParser {

    /** Exactly the characters for which Python's {@code str.isspace()} is true. */
    static final String PY_SPACE =
            "\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
    private static final String DIGIT = "\\p{Nd}";
    private static final Pattern OBJECT = Pattern.compile(
            "([^\\n]*?)"
            + ("<loc(" + DIGIT + "{4})>").repeat(4)
            + "[" + PY_SPACE + "]*"
            + "(?:" + ("<seg(" + DIGIT + "{3})>").repeat(Detection.SEG_TOKENS) + ")?"
            + "[" + PY_SPACE + "]*"
            + "([^;<>]+)? ?(?:; )?");
    private static final int FIRST_LOC_GROUP = 2;
    private static final int FIRST_SEG_GROUP = FIRST_LOC_GROUP + 4;
    private static final int LABEL_GROUP = FIRST_SEG_GROUP + Detection.SEG_TOKENS;

    private DetectionParser() {}

    /** All items of {@code text} in order: text pieces and objects on an image of {@code width x height}. */
    public static List<OutputItem> parse(String text, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        List<OutputItem> items = new ArrayList<>();
        Matcher m = OBJECT.matcher(text);
        int pos = 0;
        while (pos < text.length()) {
            m.region(pos, text.length());
            if (!m.lookingAt()) break;
            if (!m.group(1).isEmpty()) items.add(new TextItem(m.group(1)));
            items.add(toDetection(m, width, height));
            pos = m.end();
        }
        if (pos < text.length()) items.add(new TextItem(text.substring(pos)));
        return items;
    }

    /** Only the objects of {@code text}, valid or not, in output order. */
    public static List<Detection> detections(String text, int width, int height) {
        List<Detection> out = new ArrayList<>();
        for (OutputItem item : parse(text, width, height)) {
            if (item instanceof Detection d) out.add(d);
        }
        return out;
    }

    private static Detection toDetection(Matcher m, int width, int height) {
        LocationTokens loc = new LocationTokens(number(m.group(FIRST_LOC_GROUP)), number(m.group(FIRST_LOC_GROUP + 1)),
                number(m.group(FIRST_LOC_GROUP + 2)), number(m.group(FIRST_LOC_GROUP + 3)));
        List<Integer> seg = null;
        if (m.group(FIRST_SEG_GROUP) != null) {
            seg = new ArrayList<>(Detection.SEG_TOKENS);
            for (int i = 0; i < Detection.SEG_TOKENS; i++) seg.add(number(m.group(FIRST_SEG_GROUP + i)));
        }
        String labelRaw = m.group(LABEL_GROUP);
        String label = labelRaw == null ? null : pythonStrip(labelRaw);
        if (label != null && label.isEmpty()) label = null;
        String span = m.group().substring(m.end(1) - m.start());
        return new Detection(span, label, labelRaw, loc, seg, width, height);
    }

    /** Python's {@code int()} of a run of Unicode decimal digits (the pattern admits any {@code \p{Nd}}). */
    private static int number(String digits) {
        int v = 0;
        for (int i = 0; i < digits.length(); ) {
            int cp = digits.codePointAt(i);
            v = v * 10 + Character.digit(cp, 10);
            i += Character.charCount(cp);
        }
        return v;
    }

    /** Python's {@code str.strip()}: removes {@code str.isspace()} characters from both ends. */
    static String pythonStrip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isPythonSpace(s.charAt(start))) start++;
        while (end > start && isPythonSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    /** {@code str.isspace()}: Java's {@code isWhitespace} plus the no-break spaces and NEL it leaves out. */
    static boolean isPythonSpace(char c) {
        return Character.isWhitespace(c) || c == '\u0085' || c == '\u00A0' || c == '\u2007' || c == '\u202F';
    }
}
