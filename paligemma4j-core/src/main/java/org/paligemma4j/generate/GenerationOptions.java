package org.paligemma4j.generate;

import org.paligemma4j.model.SlidingWindowSemantics;

/**
 * How to generate: greedy by default; with {@code doSample}, temperature → top-k → top-p filtering then
 * a draw from a generator seeded with {@code seed} (the same seed gives the same tokens). Immutable; the
 * {@code withX} methods return modified copies.
 *
 * @param maxNewTokens  at most this many tokens after the prompt (a final {@code <eos>} counts)
 * @param topK          0 disables top-k
 * @param topP          1 disables top-p
 * @param extraStopIds  token ids that end generation besides the model's end-of-sequence ids
 */
public record GenerationOptions(int maxNewTokens, boolean doSample, double temperature, int topK, double topP, long seed,
                                SlidingWindowSemantics slidingWindow, int[] extraStopIds) {

    public GenerationOptions {
        if (maxNewTokens <= 0) throw new IllegalArgumentException("max new tokens must be positive, got " + maxNewTokens);
        if (doSample && !(temperature > 0)) throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be 0 (off) or positive, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        extraStopIds = extraStopIds == null ? new int[0] : extraStopIds.clone();
    }

    /** Greedy decoding of up to 64 tokens with current-transformers attention semantics. */
    public static GenerationOptions defaults() {
        return new GenerationOptions(64, false, 1.0, 0, 1.0, 0, SlidingWindowSemantics.TRANSFORMERS, null);
    }

    public GenerationOptions withMaxNewTokens(int n) {
        return new GenerationOptions(n, doSample, temperature, topK, topP, seed, slidingWindow, extraStopIds);
    }

    /** Sampling with the given temperature, top-k (0 = off), top-p (1 = off) and seed. */
    public GenerationOptions withSampling(double temperature, int topK, double topP, long seed) {
        return new GenerationOptions(maxNewTokens, true, temperature, topK, topP, seed, slidingWindow, extraStopIds);
    }

    public GenerationOptions withGreedy() {
        return new GenerationOptions(maxNewTokens, false, temperature, topK, topP, seed, slidingWindow, extraStopIds);
    }

    public GenerationOptions withSlidingWindow(SlidingWindowSemantics semantics) {
        return new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, seed, semantics, extraStopIds);
    }

    public GenerationOptions withExtraStopIds(int... ids) {
        return new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, seed, slidingWindow, ids);
    }

    @Override
    public int[] extraStopIds() {
        return extraStopIds.clone();
    }
}
