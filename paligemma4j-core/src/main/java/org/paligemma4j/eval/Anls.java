package org.paligemma4j.eval;

import java.util.List;
import java.util.Locale;

/**
 * Average Normalized Levenshtein Similarity, the metric of ST-VQA (Biten et al., ICCV 2019, "Scene Text Visual
 * Question Answering", eq. 1) used by DocVQA, InfographicVQA and TextVQA-style evaluations (the Robust Reading
 * Competition scorer):
 * <pre>
 *   NL(a, o) = Levenshtein(a, o) / max(|a|, |o|)            (characters; 0 when both are empty)
 *   s(a, o)  = 1 − NL(a, o)   if NL(a, o) &lt; τ,   else 0     with τ = 0.5
 *   ANLS     = mean over questions of  max over ground truths a of s(a, o)
 * </pre>
 * Answers are compared case-insensitively with surrounding whitespace removed and inner runs of whitespace
 * collapsed to one space, as the competition's scorer does ("not case sensitive, but space sensitive").
 */
public final class Anls {
    /** The threshold τ: a prediction at normalized distance 0.5 or more from an answer scores 0 against it. */
    public static final double THRESHOLD = 0.5;

    private Anls() {}

    /** {@code max over answers of s(answer, prediction)}, in [0, 1]. */
    public static double score(String prediction, List<String> answers) {
        if (answers.isEmpty()) throw new IllegalArgumentException("ANLS needs at least one ground-truth answer");
        String o = normalize(prediction);
        double best = 0;
        for (String answer : answers) {
            double nl = normalizedLevenshtein(normalize(answer), o);
            if (nl < THRESHOLD) best = Math.max(best, 1 - nl);
        }
        return best;
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
