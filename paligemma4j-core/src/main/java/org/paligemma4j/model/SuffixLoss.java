package org.paligemma4j.model;

/**
 * The teacher-forced language-modelling loss over a suffix, as in fine-tuning: position i predicts token
 * i + 1, and only predictions of suffix tokens count (the prefix is the task, not the answer).
 */
public final class SuffixLoss {
    private SuffixLoss() {}

    /**
     * Mean cross-entropy of {@code ids[prefixLength…]} given the logits {@code [ids.length, vocab]} of the
     * whole sequence under the prefix-LM mask.
     */
    public static double of(float[] logits, int[] ids, int prefixLength, int vocab) {
        if (prefixLength < 1 || prefixLength >= ids.length) {
            throw new IllegalArgumentException("a suffix loss needs 1 ≤ prefix length < sequence length, got "
                    + prefixLength + " of " + ids.length);
        }
        double total = 0;
        for (int i = prefixLength - 1; i < ids.length - 1; i++) {
            int o = i * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[o + v]);
            double sum = 0;
            for (int v = 0; v < vocab; v++) sum += Math.exp(logits[o + v] - max);
            total += max + Math.log(sum) - logits[o + ids[i + 1]];
        }
        return total / (ids.length - prefixLength);
    }

    /**
     * Whether the prediction of {@code ids[i]} (made at position i − 1) counts in the training loss: it
     * is a suffix token (the {@code <eos>} that ends the suffix included) and not the pad token, which the
     * reference ignores wherever it appears in the labels.
     */
    public static boolean isTarget(int[] ids, int i, int prefixLength, int padTokenId) {
        return i >= prefixLength && i < ids.length && ids[i] != padTokenId;
    }

    /** How many tokens the training loss averages over (see {@link #isTarget}). */
    public static int targetCount(int[] ids, int prefixLength, int padTokenId) {
        int n = 0;
        for (int i = prefixLength; i < ids.length; i++) if (isTarget(ids, i, prefixLength, padTokenId)) n++;
        return n;
    }
}
