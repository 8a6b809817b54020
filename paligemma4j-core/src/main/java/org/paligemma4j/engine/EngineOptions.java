package org.paligemma4j.engine;

import java.time.Duration;

/**
 * How an {@link Engine} schedules: at most {@code maxBatch} sequences decode together, at most {@code maxQueue}
 * requests wait for a place (more are refused with {@link QueueFullException}), and a request running longer
 * than {@code requestTimeout} (null: no limit) ends with {@link org.paligemma4j.generate.FinishReason#TIMEOUT}.
 * Immutable; the {@code withX} methods return modified copies.
 */
public record EngineOptions(int maxBatch, int maxQueue, Duration requestTimeout) {
    public EngineOptions {
        if (maxBatch < 1) throw new IllegalArgumentException("max batch must be at least 1, got " + maxBatch);
        if (maxQueue < 0) throw new IllegalArgumentException("max queue must not be negative, got " + maxQueue);
        if (requestTimeout != null && (requestTimeout.isNegative() || requestTimeout.isZero())) {
            throw new IllegalArgumentException("request timeout must be positive, got " + requestTimeout);
        }
    }

    /** Batches of up to 8, 64 waiting, no time limit. */
    public static EngineOptions defaults() {
        return new EngineOptions(8, 64, null);
    }

    public EngineOptions withMaxBatch(int n) {
        return new EngineOptions(n, maxQueue, requestTimeout);
    }

    public EngineOptions withMaxQueue(int n) {
        return new EngineOptions(maxBatch, n, requestTimeout);
    }

    public EngineOptions withRequestTimeout(Duration timeout) {
        return new EngineOptions(maxBatch, maxQueue, timeout);
    }
}
