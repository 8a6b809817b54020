package org.paligemma4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.engine.Engine;
import org.paligemma4j.engine.Generation;
import org.paligemma4j.engine.GenerationRequest;
import org.paligemma4j.engine.QueueFullException;
import org.paligemma4j.generate.GenerationListener;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.RgbImage;

/**
 * What every endpoint does with the engine: reads the sampling fields of a request, submits it (a full queue is
 * a 429, a prompt that cannot run a 400, a closing engine a 503) and waits for the result. The HTTP layer only
 * translates; the engine knows no HTTP.
 */
final class Generations {
    /** Seconds a client is told to wait before retrying when the queue is full. */
    static final int RETRY_AFTER_SECONDS = 1;

    private final PaliGemma model;
    private final Engine engine;
    private final ServerOptions options;
    private final ServerMetrics metrics;

    Generations(PaliGemma model, Engine engine, ServerOptions options, ServerMetrics metrics) {
        this.model = model;
        this.engine = engine;
        this.options = options;
        this.metrics = metrics;
    }

    PaliGemma model() {
        return model;
    }

    /**
     * Generation options from a request's fields: {@code maxTokensFields} (the first given wins; default: the
     * server's limit, or what the model's positions leave when that is less), {@code temperature} (0 or absent: greedy),
     * {@code top_p}, {@code top_k}, {@code seed} (absent: a random one) and {@code stop}.
     */
    GenerationOptions options(JsonNode root, String prompt, int images, List<String> maxTokensFields) {
        return options(root, prompt, images, maxTokensFields, options.maxNewTokens());
    }

    /** As above, with {@code defaultMaxTokens} (capped by the server's limit) when the request names none. */
    GenerationOptions options(JsonNode root, String prompt, int images, List<String> maxTokensFields, int defaultMaxTokens) {
        checkPrompt(prompt);
        int promptTokens;
        try {
            promptTokens = model.prompt(prompt, null, images).ids().length;
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("messages", e.getMessage());
        }
        int positions = model.model().config().text().maxPositionEmbeddings();
        Long maxTokens = null;
        String maxField = null;
        for (String name : maxTokensFields) {
            Long v = RequestFields.integer(root, name, 1, Integer.MAX_VALUE);
            if (v != null && maxTokens == null) {
                maxTokens = v;
                maxField = name;
            }
        }
        if (maxTokens != null && maxTokens > options.maxNewTokens()) {
            throw ApiException.badRequest(maxField, "'" + maxField + "' is " + maxTokens + " but this server generates at most "
                    + options.maxNewTokens() + " tokens per request (--max-tokens)");
        }
        if (promptTokens >= positions) {
            throw ApiException.badRequest("messages", "context_length_exceeded", "the prompt has " + promptTokens
                    + " tokens (image tokens included) but the model has only " + positions + " positions");
        }
        int maxNew = maxTokens != null ? maxTokens.intValue()
                : Math.min(Math.min(defaultMaxTokens, options.maxNewTokens()), positions - promptTokens);
        if (promptTokens + maxNew > positions) {
            throw ApiException.badRequest(maxField, "context_length_exceeded", "the prompt has " + promptTokens
                    + " tokens (image tokens included); with " + maxNew + " new tokens that exceeds the model's " + positions + " positions");
        }
        GenerationOptions o = GenerationOptions.defaults().withMaxNewTokens(maxNew);

        Double temperature = RequestFields.number(root, "temperature", 0, 2);
        Double topP = RequestFields.number(root, "top_p", 0, 1);
        if (topP != null && topP == 0) throw ApiException.badRequest("top_p", "'top_p' must be in (0, 1], got 0");
        Long topK = RequestFields.integer(root, "top_k", 0, Integer.MAX_VALUE);
        Long seed = RequestFields.integer(root, "seed", Long.MIN_VALUE, Long.MAX_VALUE);
        boolean sample = temperature != null ? temperature > 0 : (topP != null && topP < 1) || (topK != null && topK > 0);
        if (sample) {
            o = o.withSampling(temperature == null ? 1.0 : temperature, topK == null ? 0 : topK.intValue(), topP == null ? 1.0 : topP,
                    seed != null ? seed : ThreadLocalRandom.current().nextLong());
        }
        List<String> stops = RequestFields.strings(root, "stop", 4);
        if (!stops.isEmpty()) o = o.withStopStrings(stops);
        return o;
    }

    void checkPrompt(String prompt) {
        if (prompt.length() > options.maxPromptChars()) {
            throw ApiException.badRequest("messages", "context_length_exceeded", "the prompt has " + prompt.length()
                    + " characters; this server takes at most " + options.maxPromptChars());
        }
    }

    /** Queues a generation; {@code listener} (may be null) sees each token on the engine's thread. */
    Generation submit(List<RgbImage> images, String prompt, GenerationOptions generation, GenerationListener listener) {
        try {
            return engine.submit(new GenerationRequest(images, prompt, generation), listener);
        } catch (QueueFullException e) {
            throw queueFull(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("messages", e.getMessage());
        } catch (IllegalStateException e) {
            throw shuttingDown();
        }
    }

    /** A 429 before any work, when the queue is already full (checked again by the engine at submission). */
    void refuseWhenQueueFull() {
        if (engine.queueDepth() >= options.maxQueue()) {
            throw queueFull("the server is busy: " + options.maxQueue() + " requests are already waiting; try again later");
        }
    }

    /** Waits for a generation; one the engine could not run is a 400 (e.g. an image it could not encode). */
    GenerationResult await(Generation g) {
        GenerationResult result;
        try {
            result = g.await();
        } catch (InterruptedException e) {
            g.cancel();
            Thread.currentThread().interrupt();
            throw shuttingDown();
        } catch (IllegalStateException e) {
            throw shuttingDown();
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(null, e.getMessage());
        }
        metrics.observe(result);
        if (result.finishReason() == org.paligemma4j.generate.FinishReason.SHUTDOWN) throw shuttingDown();
        return result;
    }

    /** Ends a generation whose client went away; it is still counted when the engine finishes it. */
    void cancel(Generation g) {
        g.cancel();
        g.result().thenAccept(metrics::observe);
    }

    static ApiException queueFull(String message) {
        return new ApiException(429, "rate_limit_error", null, "queue_full", message);
    }

    static ApiException shuttingDown() {
        return new ApiException(503, "server_error", null, "shutting_down", "the server is shutting down; try again later");
    }
}
