package org.paligemma4j.eval;

import java.util.List;
import java.util.Locale;

/**
 * Average Normalized Levenshtein Similarity, the metric of ST-VQA (Biten et al., ICCV 2019, "Scene Text Visual
 * Question Answering", eq. 1) used by DocVQA, InfographicVQA and TextVQA-style evaluations, computed as the
 * competitions' scoring script does (the DocVQA/InfographicVQA evaluation script of the Robust Reading Competition):
 * <pre>
 *   NL(a, o) = Levenshtein(norm(a), norm(o)) / max(|a|, |o|)     (characters; 0 when both are empty)
 *   score    = 1 − min over ground truths a of NL(a, o),  set to 0 when it is below τ = 0.5
 *   ANLS     = mean over questions of score
 * </pre>
 * where {@code norm} lower-cases, strips and collapses inner runs of whitespace to one space ("not case
 * sensitive, but space sensitive"). Two details follow the script rather than the paper's formula: a similarity of
 * exactly 0.5 is kept (the paper writes NL &lt; τ), and the denominator uses the lengths of the answers as given
 * (upper-cased, before normalization), so surrounding whitespace lengthens it.
 */
public final class Anls {
    /** The threshold τ: a best similarity below 0.5 scores 0. */
    public static final double THRESHOLD = 0.5;

    private Anls() {}

    /** The question's score: the best similarity to one of {@code answers}, or 0 below the threshold. */
    public static double score(String prediction, List<String> answers) {
        if (answers.isEmpty()) throw new IllegalArgumentException("ANLS needs at least one ground-truth answer");
        int[] o = normalize(prediction).codePoints().toArray();
        int predictionLength = upperCaseLength(prediction);
        double smallest = Double.POSITIVE_INFINITY;
        for (String answer : answers) {
            int length = Math.max(upperCaseLength(answer), predictionLength);
            double nl = length == 0 ? 0.0 : (double) levenshtein(normalize(answer).codePoints().toArray(), o) / length;
            smallest = Math.min(smallest, nl);
        }
        double similarity = 1 - smallest;
        return similarity < THRESHOLD ? 0.0 : similarity;
    }

    /** Python's {@code len(s.upper())}: code points after full upper-casing ("ß" becomes "SS"). */
    private static int upperCaseLength(String s) {
        String upper = s.toUpperCase(Locale.ROOT);
        return upper.codePointCount(0, upper.length());
    }

    /** Lower-cased, stripped, inner whitespace runs as one space. */
    static String normalize(String s) {
        return String.join(" ", PythonText.split(s.toLowerCase(Locale.ROOT)));
    }

    /** {@code Levenshtein(a, b) / max(|a|, |b|)} over Unicode code points; 0 for two empty strings. */
    public static double normalizedLevenshtein(String a, String b) {
        int[] x = a.codePoints().toArray();
        int[] y = b.codePoints().toArray();
        int longest = Math.max(x.length, y.length);
        return longest == 0 ? 0.0 : (double) levenshtein(x, y) / longest;
    }

    /** Insertions, deletions and substitutions, each costing 1. */
    static int levenshtein(int[] a, int[] b) {
        int[] previous = new int[b.length + 1];
        int[] current = new int[b.length + 1];
        for (int j = 0; j <= b.length; j++) previous[j] = j;
        for (int i = 1; i <= a.length; i++) {
            current[0] = i;
            for (int j = 1; j <= b.length; j++) {
                int substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length];
    }
}
