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
 * @param stopStrings   texts that end generation when the decoded output contains one (matched across token
 *                      boundaries; the output text ends before it)
 * @param topLogprobs   −1: no log-probabilities; k ≥ 0: each generated token's log-probability and its k most
 *                      likely alternatives
 */
public record GenerationOptions(int maxNewTokens, boolean doSample, double temperature, int topK, double topP, long seed,
                                SlidingWindowSemantics slidingWindow, int[] extraStopIds, java.util.List<String> stopStrings,
                                int topLogprobs) {

    public GenerationOptions {
        if (maxNewTokens <= 0) throw new IllegalArgumentException("max new tokens must be positive, got " + maxNewTokens);
        if (doSample && !(temperature > 0)) throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be 0 (off) or positive, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        extraStopIds = extraStopIds == null ? new int[0] : extraStopIds.clone();
        stopStrings = stopStrings == null ? java.util.List.of() : java.util.List.copyOf(stopStrings);
        for (String stop : stopStrings) {
            if (stop.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
        }
        if (topLogprobs < -1) throw new IllegalArgumentException("top log-probabilities must be -1 (off) or at least 0, got " + topLogprobs);
    }

    /** Greedy decoding of up to 64 tokens with current-transformers attention semantics. */
    public static GenerationOptions defaults() {
        return new GenerationOptions(64, false, 1.0, 0, 1.0, 0, SlidingWindowSemantics.TRANSFORMERS, null, null, -1);
    }

    public GenerationOptions withMaxNewTokens(int n) {
        return new GenerationOptions(n, doSample, temperature, topK, topP, seed, slidingWindow, extraStopIds, stopStrings, topLogprobs);
    }

    /** Sampling with the given temperature, top-k (0 = off), top-p (1 = off) and seed. */
    public GenerationOptions withSampling(double temperature, int topK, double topP, long seed) {
        return new GenerationOptions(maxNewTokens, true, temperature, topK, topP, seed, slidingWindow, extraStopIds, stopStrings, topLogprobs);
    }

    public GenerationOptions withGreedy() {
        return new GenerationOptions(maxNewTokens, false, temperature, topK, topP, seed, slidingWindow, extraStopIds, stopStrings, topLogprobs);
    }

    public GenerationOptions withSlidingWindow(SlidingWindowSemantics semantics) {
        return new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, seed, semantics, extraStopIds, stopStrings, topLogprobs);
    }

    public GenerationOptions withExtraStopIds(int... ids) {
        return new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, seed, slidingWindow, ids, stopStrings, topLogprobs);
    }

    /** Ends generation when the decoded text contains one of {@code stops} (in addition to the stop ids). */
    public GenerationOptions withStopStrings(java.util.List<String> stops) {
        return new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, seed, slidingWindow, extraStopIds, stops, topLogprobs);
    }

    /** Reports each generated token's log-probability and its {@code k} most likely alternatives (−1: off). */
    public GenerationOptions withTopLogprobs(int k) {
        return new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, seed, slidingWindow, extraStopIds, stopStrings, k);
    }

    @Override
    public int[] extraStopIds() {
        return extraStopIds.clone();
    }
}
