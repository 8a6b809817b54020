package org.paligemma4j.server;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;
import org.paligemma4j.engine.Engine;
import org.paligemma4j.generate.GenerationResult;

/**
 * The server's counters in Prometheus' text exposition format: requests by endpoint and status, the engine's
 * queue depth, batch size and token counts, and histograms of time to first token and time per output token.
 * Endpoints are the server's fixed route names (unknown paths count as "other"), so the series stay few.
 */
final class ServerMetrics {
    private final Map<String, AtomicLong> requests = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> finished = new ConcurrentHashMap<>();
    private final Histogram timeToFirstToken = new Histogram(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60);
    private final Histogram timePerOutputToken = new Histogram(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5);

    void countRequest(String endpoint, int status) {
        requests.computeIfAbsent(endpoint + "\u0000" + status, k -> new AtomicLong()).incrementAndGet();
    }

    void observe(GenerationResult result) {
        finished.computeIfAbsent(result.finishReason().name().toLowerCase(java.util.Locale.ROOT), k -> new AtomicLong()).incrementAndGet();
        var t = result.timings();
        if (result.ids().length > 0) timeToFirstToken.observe(t.firstTokenSeconds());
        if (t.decodedTokens() > 0) timePerOutputToken.observe(t.decodeSeconds() / t.decodedTokens());
    }

    String render(Engine engine, boolean ready) {
        StringBuilder b = new StringBuilder(4096);
        b.append("# HELP paligemma_ready Whether the model is loaded and the server answers requests.\n");
        b.append("# TYPE paligemma_ready gauge\n");
        b.append("paligemma_ready ").append(ready ? 1 : 0).append('\n');
        b.append("# HELP paligemma_requests_total HTTP requests by endpoint and status code.\n");
        b.append("# TYPE paligemma_requests_total counter\n");
        new TreeMap<>(requests).forEach((key, count) -> {
            int split = key.indexOf('\u0000');
            b.append("paligemma_requests_total{endpoint=\"").append(key, 0, split).append("\",status=\"")
                    .append(key, split + 1, key.length()).append("\"} ").append(count.get()).append('\n');
        });
        b.append("# HELP paligemma_generations_total Generations ended, by finish reason (stop, length, cancelled, timeout, shutdown).\n");
        b.append("# TYPE paligemma_generations_total counter\n");
        new TreeMap<>(finished).forEach((reason, count) ->
                b.append("paligemma_generations_total{finish_reason=\"").append(reason).append("\"} ").append(count.get()).append('\n'));
        b.append("# HELP paligemma_queue_depth Requests waiting for a place in the batch.\n");
        b.append("# TYPE paligemma_queue_depth gauge\n");
        b.append("paligemma_queue_depth ").append(engine == null ? 0 : engine.queueDepth()).append('\n');
        b.append("# HELP paligemma_batch_size Sequences decoding together now.\n");
        b.append("# TYPE paligemma_batch_size gauge\n");
        b.append("paligemma_batch_size ").append(engine == null ? 0 : engine.activeCount()).append('\n');
        b.append("# HELP paligemma_prompt_tokens_total Prompt tokens prefilled (image tokens included).\n");
        b.append("# TYPE paligemma_prompt_tokens_total counter\n");
        b.append("paligemma_prompt_tokens_total ").append(engine == null ? 0 : engine.promptTokens()).append('\n');
        b.append("# HELP paligemma_generated_tokens_total Tokens generated.\n");
        b.append("# TYPE paligemma_generated_tokens_total counter\n");
        b.append("paligemma_generated_tokens_total ").append(engine == null ? 0 : engine.generatedTokens()).append('\n');
        timeToFirstToken.render(b, "paligemma_time_to_first_token_seconds",
                "Seconds from submission to the first generated token (queueing, image encoding and prefill).");
        timePerOutputToken.render(b, "paligemma_time_per_output_token_seconds",
                "Mean seconds per generated token after the first, one observation per request.");
        return b.toString();
    }

    /** A Prometheus histogram: cumulative bucket counts, a sum and a count. */
    static final class Histogram {
        private final double[] bounds;
        private final AtomicLongArray counts;
        private final DoubleAdder sum = new DoubleAdder();
        private final AtomicLong count = new AtomicLong();

        Histogram(double... bounds) {
            this.bounds = bounds.clone();
            this.counts = new AtomicLongArray(bounds.length);
        }

        void observe(double value) {
            // The total first: a concurrent reader may see it ahead of the buckets, never behind (+Inf >= every bucket).
            count.incrementAndGet();
            sum.add(value);
            for (int i = 0; i < bounds.length; i++) if (value <= bounds[i]) counts.incrementAndGet(i);
        }

        void render(StringBuilder b, String name, String help) {
            b.append("# HELP ").append(name).append(' ').append(help).append('\n');
            b.append("# TYPE ").append(name).append(" histogram\n");
            long total = count.get();
            for (int i = 0; i < bounds.length; i++) {
                b.append(name).append("_bucket{le=\"").append(format(bounds[i])).append("\"} ").append(counts.get(i)).append('\n');
            }
            b.append(name).append("_bucket{le=\"+Inf\"} ").append(total).append('\n');
            b.append(name).append("_sum ").append(format(sum.sum())).append('\n');
            b.append(name).append("_count ").append(total).append('\n');
        }

        private static String format(double v) {
            return String.format(Locale.ROOT, "%s", v);
        }
    }
}
