package org.paligemma4j.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.FinishReason;
import org.paligemma4j.generate.GenerationListener;
import org.paligemma4j.generate.Sequence;
import org.paligemma4j.model.KvCache;
import org.paligemma4j.model.PaliGemmaModel;

/**
 * Continuous batching: every active sequence advances together, one decoder pass per step for the whole batch,
 * so the weights are read once per step however many requests are running (decode on a CPU is bound by memory
 * bandwidth: this is where a server's throughput comes from). Between two steps the loop admits at most one
 * waiting request (its image encoding and prefill), so running sequences keep streaming while new ones join.
 * Each request keeps its own KV cache, sampling, stop conditions and seed, and the model computes each row of
 * a step exactly as it would alone: a request's tokens do not depend on what else runs beside it.
 *
 * <pre>{@code
 * try (PaliGemma pg = PaliGemma.open(dir); Engine engine = Engine.start(pg, EngineOptions.defaults())) {
 *     Generation g = engine.submit(GenerationRequest.of(image, "caption en", GenerationOptions.defaults()), null);
 *     System.out.println(g.await().text());
 * }
 * }</pre>
 *
 * Thread-safe: any thread may submit. One loop thread runs the model (with the shared worker threads);
 * listeners are called on it. {@link #close()} ends every generation (finish reason SHUTDOWN) and stops the
 * loop; the model is not closed.
 */
public final class Engine implements AutoCloseable {
    private final PaliGemma model;
    private final EngineOptions options;
    private final BlockingQueue<Pending> queue;
    private final List<Running> active = new ArrayList<>();
    private final Thread loop;
    private volatile boolean closing;
    private volatile int activeCount;
    private final AtomicLong promptTokens = new AtomicLong(), generatedTokens = new AtomicLong();

    private record Pending(GenerationRequest request, GenerationListener listener, Generation handle, long submitted) {}

    private static final class Running {
        final Pending pending;
        final Sequence sequence;
        final double queueSeconds, imageSeconds, firstTokenSeconds;
        final boolean imageCached;

        Running(Pending pending, Sequence sequence, double queueSeconds, double imageSeconds, boolean imageCached,
                double firstTokenSeconds) {
            this.pending = pending;
            this.sequence = sequence;
            this.queueSeconds = queueSeconds;
            this.imageSeconds = imageSeconds;
            this.imageCached = imageCached;
            this.firstTokenSeconds = firstTokenSeconds;
        }
    }

    private Engine(PaliGemma model, EngineOptions options) {
        this.model = model;
        this.options = options;
        this.queue = new ArrayBlockingQueue<>(Math.max(1, options.maxQueue()));
        this.loop = Thread.ofPlatform().name("paligemma-engine").daemon().unstarted(this::run);
    }

    /** Starts the engine's loop over {@code model} (which stays open until the caller closes it). */
    public static Engine start(PaliGemma model, EngineOptions options) {
        Engine e = new Engine(model, options);
        e.loop.start();
        return e;
    }

    public PaliGemma model() {
        return model;
    }

    public EngineOptions options() {
        return options;
    }

    /**
     * Queues a request. The prompt is checked now, so a request that cannot run fails here rather than later.
     *
     * @param listener sees each token as it is chosen (on the engine's thread); may be null
     * @throws QueueFullException       when {@code maxQueue} requests are already waiting
     * @throws IllegalArgumentException for a prompt whose image tokens do not match the images, or one too long
     * @throws IllegalStateException    once the engine is closing
     */
    public Generation submit(GenerationRequest request, GenerationListener listener) {
        if (closing) throw new IllegalStateException("the engine is shutting down");
        var prompt = model.prompt(request.prompt(), null, request.images().size());
        model.checkLength(prompt.ids().length, request.options().maxNewTokens());
        Generation handle = new Generation();
        if (options.maxQueue() == 0 || !queue.offer(new Pending(request, listener, handle, System.nanoTime()))) {
            throw new QueueFullException(options.maxQueue());
        }
        return handle;
    }

    /** Requests waiting for a place in the batch. */
    public int queueDepth() {
        return queue.size();
    }

    /** Sequences decoding now. */
    public int activeCount() {
        return activeCount;
    }

    /** Prompt tokens prefilled since the start. */
    public long promptTokens() {
        return promptTokens.get();
    }

    /** Tokens generated since the start. */
    public long generatedTokens() {
        return generatedTokens.get();
    }

    /** Ends every queued and running generation (finish reason SHUTDOWN) and stops the loop. */
    @Override
    public void close() {
        closing = true;
        loop.interrupt();
        try {
            loop.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            while (!closing) {
                admit();
                if (!active.isEmpty()) step();
            }
        } catch (InterruptedException stopping) {
            // close() interrupts a loop that waits for work
        } finally {
            for (Running r : active) complete(r, FinishReason.SHUTDOWN);
            active.clear();
            activeCount = 0;
            Pending p;
            while ((p = queue.poll()) != null) {
                p.handle().result().completeExceptionally(new IllegalStateException("the engine shut down before the request started"));
            }
        }
    }

    /** Takes one waiting request into the batch if there is room: waits for one only when nothing is running. */
    private void admit() throws InterruptedException {
        if (active.size() >= options.maxBatch()) return;
        Pending p = active.isEmpty() ? queue.poll(100, TimeUnit.MILLISECONDS) : queue.poll();
        if (p == null || closing) {
            if (p != null) p.handle().result().completeExceptionally(new IllegalStateException("the engine shut down before the request started"));
            return;
        }
        long admitted = System.nanoTime();
        double queueSeconds = (admitted - p.submitted()) / 1e9;
        try {
            GenerationRequest r = p.request();
            var prepared = model.prepare(r.images(), r.prompt(), r.options().maxNewTokens());
            Sequence s = model.newSequence(prepared, r.options(), p.listener());
            promptTokens.addAndGet(prepared.ids().length);
            s.prefill();
            generatedTokens.incrementAndGet();
            Running running = new Running(p, s, queueSeconds, prepared.imageSeconds(), prepared.imageCached(),
                    (System.nanoTime() - p.submitted()) / 1e9);
            if (s.finished()) {
                complete(running, null);
            } else {
                active.add(running);
                activeCount = active.size();
            }
        } catch (RuntimeException e) {
            p.handle().result().completeExceptionally(e);
        }
    }

    /** One decoder pass for every active sequence, then their stop checks. */
    private void step() {
        endCancelledAndLate();
        int rows = active.size();
        if (rows == 0) return;
        PaliGemmaModel m = model.model();
        int[] next = new int[rows], prefixes = new int[rows];
        KvCache[] caches = new KvCache[rows];
        for (int t = 0; t < rows; t++) {
            Sequence s = active.get(t).sequence;
            next[t] = s.lastId();
            prefixes[t] = s.prefixLength();
            caches[t] = s.cache();
        }
        try {
            float[] x = m.embedTokens(next);
            // One semantics per step: the options of the first sequence. Mixed semantics run in separate steps below.
            if (sameSemantics()) {
                m.decodeStep(x, rows, caches, prefixes, active.getFirst().sequence.options().slidingWindow());
                float[] logits = m.stepLogits(x, rows);
                for (int t = 0; t < rows; t++) accept(active.get(t), logits, t * m.vocabSize());
            } else {
                for (int t = 0; t < rows; t++) {
                    Running r = active.get(t);
                    float[] row = m.embedTokens(new int[] {next[t]});
                    m.decodeStep(row, 1, new KvCache[] {caches[t]}, new int[] {prefixes[t]}, r.sequence.options().slidingWindow());
                    accept(r, m.stepLogits(row, 1), 0);
                }
            }
        } catch (RuntimeException e) {
            // A failed step leaves every cache in an unknown state: end all of them with the error.
            for (Running r : active) r.pending.handle().result().completeExceptionally(e);
            active.clear();
        }
        List<Running> done = new ArrayList<>();
        for (Running r : active) if (r.sequence.finished()) done.add(r);
        active.removeAll(done);
        activeCount = active.size();
        for (Running r : done) complete(r, null);
    }

    private void accept(Running r, float[] logits, int offset) {
        try {
            r.sequence.accept(logits, offset);
            generatedTokens.incrementAndGet();
        } catch (RuntimeException listenerFailed) {
            // The listener (a client stream) failed: the client is gone, so its slot is freed.
            r.sequence.finish(FinishReason.CANCELLED);
        }
    }

    private boolean sameSemantics() {
        var first = active.getFirst().sequence.options().slidingWindow();
        for (Running r : active) if (r.sequence.options().slidingWindow() != first) return false;
        return true;
    }

    private void endCancelledAndLate() {
        long now = System.nanoTime();
        for (Running r : active) {
            if (r.pending.handle().cancelRequested()) r.sequence.finish(FinishReason.CANCELLED);
            else if (options.requestTimeout() != null && now - r.pending.submitted() > options.requestTimeout().toNanos()) {
                r.sequence.finish(FinishReason.TIMEOUT);
            }
        }
        List<Running> ended = new ArrayList<>();
        for (Running r : active) if (r.sequence.finished()) ended.add(r);
        active.removeAll(ended);
        activeCount = active.size();
        for (Running r : ended) complete(r, null);
    }

    private void complete(Running r, FinishReason reason) {
        if (reason != null) r.sequence.finish(reason);
        r.pending.handle().result().complete(r.sequence.result(r.queueSeconds, r.imageSeconds, r.imageCached, r.firstTokenSeconds));
    }
}
