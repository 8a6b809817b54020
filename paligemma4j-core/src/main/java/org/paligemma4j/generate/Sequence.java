package org.paligemma4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.paligemma4j.model.KvCache;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.tokenizer.StreamingDecoder;
import org.paligemma4j.tokenizer.Tokenizer;

/**
 * One request's decoding state (a "slot"): its KV cache, sampler, stop conditions, output so far and
 * listener. It is advanced either alone ({@link #generateAlone}) or as one row of a batched decode step; the
 * model computes each row exactly as it would alone, so a sequence's tokens never depend on its batch.
 * Not thread-safe: one thread (the caller, or the engine's loop) drives it.
 */
public final class Sequence {
    private final PaliGemmaModel model;
    private final int[] promptIds;
    private final PaliGemmaModel.ImageEmbedding image;
    private final GenerationOptions options;
    private final int[] stopIds;
    private final GenerationListener listener;
    private final KvCache cache;
    private final Sampler sampler;
    private final StreamingDecoder decoder;
    private final StopStrings stopStrings;
    private final int[] produced;
    private final List<TokenLogprob> logprobs = new ArrayList<>();
    private int count;
    private FinishReason finish;
    private long prefillNanos, decodeStartNanos, decodeNanos;

    /**
     * @param promptIds the whole prompt (image tokens, {@code <bos>}, text, {@code \n}): the prefix
     * @param stopIds   ids that end generation (the model's end-of-sequence ids); the options add their own
     */
    public Sequence(PaliGemmaModel model, Tokenizer tokenizer, int[] promptIds, PaliGemmaModel.ImageEmbedding image,
                    GenerationOptions options, int[] stopIds, GenerationListener listener) {
        this.model = model;
        this.promptIds = promptIds.clone();
        this.image = image;
        this.options = options;
        this.stopIds = stopIds.clone();
        this.listener = listener;
        this.cache = model.newCache(promptIds.length + options.maxNewTokens());
        this.sampler = Sampler.of(options);
        this.decoder = tokenizer.newStreamingDecoder();
        this.stopStrings = new StopStrings(options.stopStrings());
        this.produced = new int[options.maxNewTokens()];
    }

    /** Prefill and decode until a stop condition, with no other sequence (a batch of one). */
    public GenerationResult generateAlone(double imageSeconds, boolean imageCached) {
        long t0 = System.nanoTime();
        prefill();
        while (!finished()) {
            float[] x = model.embedTokens(new int[] {lastId()});
            model.decodeStep(x, 1, new KvCache[] {cache}, new int[] {promptIds.length}, options.slidingWindow());
            accept(model.stepLogits(x, 1), 0);
        }
        return result(0, imageSeconds, imageCached, (prefillNanos - t0) / 1e9);
    }

    /** Runs the prompt through the decoder and chooses the first token. */
    public void prefill() {
        long t0 = System.nanoTime();
        float[] x = model.embedPrompt(promptIds, image);
        model.decode(x, promptIds.length, cache, promptIds.length, options.slidingWindow(), null);
        float[] logits = model.logits(x, promptIds.length - 1, 1);
        decodeStartNanos = System.nanoTime();
        prefillNanos = decodeStartNanos - t0;
        accept(logits, 0);
    }

    /** Takes one step's logits (row at {@code offset}): chooses the next token, streams it, checks the stop conditions. */
    public void accept(float[] logits, int offset) {
        int vocab = model.vocabSize();
        float[] row = offset == 0 && logits.length == vocab ? logits : Arrays.copyOfRange(logits, offset, offset + vocab);
        int chosen = sampler.next(row);
        if (options.topLogprobs() >= 0) logprobs.add(TokenLogprob.of(row, 0, vocab, chosen, options.topLogprobs()));
        produced[count++] = chosen;
        String text = stopStrings.accept(decoder.accept(chosen));
        if (isStopId(chosen) || stopStrings.stopped()) finish = FinishReason.STOP;
        else if (count == produced.length) finish = FinishReason.LENGTH;
        if (finish != null) text += stopStrings.accept(decoder.flush()) + stopStrings.flush();
        if (listener != null) listener.onToken(chosen, text);
        decodeNanos = System.nanoTime() - decodeStartNanos;
    }

    /** Ends the sequence early (cancelled, timed out, engine closed); no further tokens are accepted. */
    public void finish(FinishReason reason) {
        if (finish == null) finish = reason;
    }

    public boolean finished() {
        return finish != null;
    }

    /** The last chosen id: the next decode step's input. */
    public int lastId() {
        return produced[count - 1];
    }

    public KvCache cache() {
        return cache;
    }

    public int prefixLength() {
        return promptIds.length;
    }

    public GenerationOptions options() {
        return options;
    }

    /** Tokens generated so far. */
    public int generated() {
        return count;
    }

    /** The result so far; {@code prefillSeconds} as measured by whoever ran the prefill. */
    public GenerationResult result(double queueSeconds, double imageSeconds, boolean imageCached, double firstTokenSeconds) {
        int[] ids = Arrays.copyOf(produced, count);
        return new GenerationResult(ids, stopStrings.text(), finish == null ? FinishReason.CANCELLED : finish, logprobs,
                promptIds.length, new GenerationResult.Timings(queueSeconds, imageSeconds, imageCached, prefillNanos / 1e9,
                decodeNanos / 1e9, Math.max(0, count - 1), firstTokenSeconds));
    }

    private boolean isStopId(int id) {
        for (int s : stopIds) if (s == id) return true;
        for (int s : options.extraStopIds()) if (s == id) return true;
        return false;
    }
}
