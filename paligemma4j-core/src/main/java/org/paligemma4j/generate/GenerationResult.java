package org.paligemma4j.generate;

import java.util.List;

/**
 * What a generation produced: the generated ids (a final end-of-sequence id included when produced, as the
 * reference's generate() keeps it), their text (ending before a stop string, if one ended it), why it ended,
 * the log-probabilities when asked for, and timings. Immutable: {@link #ids()} returns a copy.
 */
public record GenerationResult(int[] ids, String text, FinishReason finishReason, List<TokenLogprob> logprobs,
                               int promptTokens, Timings timings) {
    public GenerationResult {
        ids = ids.clone();
        logprobs = List.copyOf(logprobs);
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    /** Whether it ended on an end-of-sequence id or a stop string (rather than the length limit, a cancel, …). */
    public boolean stoppedOnEos() {
        return finishReason == FinishReason.STOP;
    }

    /**
     * Seconds spent waiting for a place in the batch, encoding the image(s) (0 when every image came from the
     * feature cache), in prefill and decoding ({@code decodedTokens} tokens after the first), and from
     * submission to the first token.
     */
    public record Timings(double queueSeconds, double imageSeconds, boolean imageCached, double prefillSeconds,
                          double decodeSeconds, int decodedTokens, double firstTokenSeconds) {}
}
