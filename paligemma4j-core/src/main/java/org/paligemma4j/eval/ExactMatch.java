package org.paligemma4j.eval;

import java.util.List;

/**
 * Exact match: 1 when the prediction equals one of the references, else 0, after removing leading and trailing
 * whitespace (Python's {@code str.strip()}) from both. Case, punctuation and inner spacing count. The corpus score
 * is the mean over examples.
 */
public final class ExactMatch {
    private ExactMatch() {}

    /** 1.0 when {@code prediction} equals one of {@code references} (both stripped), else 0.0. */
    public static double score(String prediction, List<String> references) {
        String p = PythonText.strip(prediction);
        for (String r : references) {
            if (PythonText.strip(r).equals(p)) return 1.0;
        }
        return 0.0;
    }
}
