package org.paligemma4j.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The worker threads every kernel shares. Work is split into a fixed number of contiguous chunks, so
 * each thread streams its own slice of a weight matrix. The thread count comes from
 * {@code -Dpaligemma.threads}, else all available processors (common pool parallelism is one less than
 * the core count, which halves decode speed on a 2-core machine).
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = newPool(defaultThreads());

    private Parallel() {}

    static int defaultThreads() {
        String p = System.getProperty("paligemma.threads");
        if (p != null) {
            try {
                int n = Integer.parseInt(p.strip());
                if (n > 0) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the processor count
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    private static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(threads, p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setDaemon(true);
            t.setName("paligemma-worker-" + t.getPoolIndex());
            return t;
        }, null, false);
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /** Replaces the worker pool (e.g. from {@code --threads}). */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        if (threads == pool.getParallelism()) return;
        ForkJoinPool old = pool;
        pool = newPool(threads);
        old.shutdown();
    }

    /** Runs {@code body(i)} for i in [0, n), in parallel when it is worth it. */
    public static void forEach(int n, IntConsumer body) {
        if (n <= 0) return;
        if (n == 1 || pool.getParallelism() == 1) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        pool.submit(() -> IntStream.range(0, n).parallel().forEach(body)).join();
    }

    /**
     * Splits [0, n) into about {@code threads × 4} chunks of at least {@code minChunk} and runs
     * {@code body(from, to)} on each.
     */
    public static void forRange(int n, int minChunk, RangeBody body) {
        int chunks = Math.max(1, Math.min(threads() * 4, n / Math.max(1, minChunk)));
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        forEach(chunks, c -> body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
    }

    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }
}
