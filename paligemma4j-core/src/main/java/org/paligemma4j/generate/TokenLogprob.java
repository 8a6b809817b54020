package org.paligemma4j.generate;

import java.util.Arrays;

/**
 * A generated token's log-probability under the model (log-softmax of its raw logits, after Gemma 2's final
 * soft cap, before temperature or filtering) and the {@code k} most likely tokens at that step, best first.
 * Immutable.
 */
public record TokenLogprob(int id, float logprob, int[] topIds, float[] topLogprobs) {
    public TokenLogprob {
        topIds = topIds.clone();
        topLogprobs = topLogprobs.clone();
        if (topIds.length != topLogprobs.length) throw new IllegalArgumentException("top ids and log-probabilities differ in length");
    }

    @Override
    public int[] topIds() {
        return topIds.clone();
    }

    @Override
    public float[] topLogprobs() {
        return topLogprobs.clone();
    }

    /**
     * The log-probability of {@code id} in {@code logits[offset, offset + vocab)} and the {@code k} best
     * alternatives. The log-sum-exp is accumulated in double, so the values do not depend on the vocabulary order.
     */
    public static TokenLogprob of(float[] logits, int offset, int vocab, int id, int k) {
        double logSumExp = logSumExp(logits, offset, vocab);
        int[] top = topK(logits, offset, vocab, k);
        float[] topValues = new float[top.length];
        for (int i = 0; i < top.length; i++) topValues[i] = (float) (logits[offset + top[i]] - logSumExp);
        return new TokenLogprob(id, (float) (logits[offset + id] - logSumExp), top, topValues);
    }

    /** {@code log Σ exp(logits[i])} over the row, stable (shifted by the maximum). */
    public static double logSumExp(float[] logits, int offset, int vocab) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - max);
        return max + Math.log(sum);
    }

    /** Indexes of the k largest values, largest first (ties: lower id first). */
    static int[] topK(float[] logits, int offset, int vocab, int k) {
        k = Math.min(k, vocab);
        int[] best = new int[k];
        int n = 0;
        for (int i = 0; i < vocab; i++) {
            float v = logits[offset + i];
            if (n == k && (k == 0 || v <= logits[offset + best[k - 1]])) continue;
            int at = n < k ? n++ : k - 1;
            while (at > 0 && logits[offset + best[at - 1]] < v) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = i;
        }
        return Arrays.copyOf(best, n);
    }
}
