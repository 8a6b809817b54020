package org.paligemma4j.generate;

import java.util.ArrayList;
import java.util.List;
import org.paligemma4j.model.KvCache;
import org.paligemma4j.model.PaliGemmaModel;

/**
 * Prefill, then one token at a time with the KV cache: the prompt is the prefix-LM prefix, each new token
 * attends causally. Stops at an end-of-sequence id (which is kept in the output, as the reference's
 * generate() keeps it) or after {@code maxNewTokens}.
 */
public final class Generator {
    private final PaliGemmaModel model;
    private final int[] stopIds;

    /** @param stopIds the model's end-of-sequence ids (config and generation_config) */
    public Generator(PaliGemmaModel model, int[] stopIds) {
        this.model = model;
        this.stopIds = stopIds.clone();
    }

    /**
     * @param stepLogits  when true, the logits of every step are kept in the result
     * @param forcedIds   when non-null, feed these ids instead of the chosen ones (teacher forcing; the
     *                    chosen ids are still reported), generating exactly {@code forcedIds.length} steps
     */
    public record Request(int[] promptIds, PaliGemmaModel.ImageEmbedding image, GenerationOptions options,
                          boolean stepLogits, int[] forcedIds) {}

    public record Result(int[] ids, boolean stoppedOnStopId, List<float[]> stepLogits, Timings timings) {}

    /** Seconds spent in prefill and per decoded token. */
    public record Timings(double prefillSeconds, int promptTokens, double decodeSeconds, int decodedTokens) {}

    public Result generate(Request r, TokenListener listener) {
        GenerationOptions o = r.options();
        int steps = r.forcedIds() != null ? r.forcedIds().length : o.maxNewTokens();
        int hidden = model.config().text().hiddenSize();
        int promptLength = r.promptIds().length;
        KvCache cache = model.newCache(promptLength + steps);
        Sampler sampler = Sampler.of(o);
        List<float[]> kept = r.stepLogits() ? new ArrayList<>() : null;

        long t0 = System.nanoTime();
        float[] x = model.embedPrompt(r.promptIds(), r.image());
        model.decode(x, promptLength, cache, promptLength, o.slidingWindow(), null);
        float[] logits = model.logits(x, promptLength - 1, 1);
        long t1 = System.nanoTime();

        int[] out = new int[steps];
        int produced = 0;
        boolean stopped = false;
        float[] step = new float[hidden];
        while (true) {
            if (kept != null) kept.add(logits);
            int chosen = sampler.next(logits);
            out[produced++] = chosen;
            if (listener != null) listener.onToken(chosen);
            int fed = r.forcedIds() != null ? r.forcedIds()[produced - 1] : chosen;
            if (r.forcedIds() == null && isStop(chosen, o)) {
                stopped = true;
                break;
            }
            if (produced == steps) break;
            float[] e = model.embedTokens(new int[] {fed});
            System.arraycopy(e, 0, step, 0, hidden);
            model.decode(step, 1, cache, promptLength, o.slidingWindow(), null);
            logits = model.logits(step, 0, 1);
        }
        long t2 = System.nanoTime();
        int[] ids = java.util.Arrays.copyOf(out, produced);
        return new Result(ids, stopped, kept, new Timings((t1 - t0) / 1e9, promptLength, (t2 - t1) / 1e9, produced - 1));
    }

    private boolean isStop(int id, GenerationOptions o) {
        for (int s : stopIds) if (s == id) return true;
        for (int s : o.extraStopIds()) if (s == id) return true;
        return false;
    }
}
