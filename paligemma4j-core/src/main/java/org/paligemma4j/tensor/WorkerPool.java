package org.paligemma4j.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Persistent worker threads for the kernels. Decoding a token runs a few hundred parallel loops of
 * 0.1–1 ms each, so handing work over must cost microseconds, not the tens of microseconds of waking a
 * fork-join pool: idle workers spin briefly for the next loop before they park, and the calling thread
 * takes items too instead of waiting. Items are claimed one at a time from a shared counter, so a slow or
 * descheduled thread delays only the item it holds.
 *
 * <p>One loop runs at a time; a loop started while another is running (from a worker inside an item, or
 * from a second application thread) runs on its caller's thread alone.
 */
final class WorkerPool implements AutoCloseable {
    /** How long an idle worker keeps spinning for the next loop before it parks. */
    private static final long SPIN_NANOS = 200_000;

    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Loop current;
    private volatile boolean closed;

    /** One parallel loop: items [0, count) and the counters its threads share. */
    private static final class Loop {
        final int count;
        final IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Loop(int count, IntConsumer body) {
            this.count = count;
            this.body = body;
        }

        /** Claims and runs items until none are left. */
        void work() {
            int i;
            while ((i = next.getAndIncrement()) < count) {
                try {
                    if (failure == null) body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("paligemma-worker-" + (i + 1));
            workers[i].start();
        }
    }

    /** Threads taking part in a loop, the caller included. */
    int threads() {
        return workers.length + 1;
    }

    /** Runs {@code body(i)} for every i in [0, n) and returns when all are done; rethrows the first failure. */
    void run(int n, IntConsumer body) {
        if (n <= 0) return;
        if (n == 1 || workers.length == 0 || Thread.currentThread() instanceof Worker || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        Loop loop = new Loop(n, body);
        try {
            current = loop;
            for (Worker w : workers) {
                if (w.parked) LockSupport.unpark(w);
            }
            loop.work();
            int spins = 0;
            while (loop.done.get() < n) {
                if (++spins < 1 << 16) Thread.onSpinWait();
                else Thread.yield();
            }
        } finally {
            current = null;
            busy.set(false);
        }
        Throwable failure = loop.failure;
        if (failure instanceof RuntimeException e) throw e;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new IllegalStateException(failure);
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w);
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run() {
            Loop last = null;
            while (!closed) {
                Loop loop = awaitLoop(last);
                if (loop == null) continue;
                last = loop;
                loop.work();
            }
        }

        /** The next loop other than {@code last}: spins for {@link #SPIN_NANOS}, then parks. */
        private Loop awaitLoop(Loop last) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            int spins = 0;
            while (!closed) {
                Loop loop = current;
                if (loop != null && loop != last) return loop;
                if ((++spins & 255) != 0 || System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                loop = current;
                if (loop == null || loop == last) LockSupport.park(this);
                parked = false;
                spinUntil = System.nanoTime() + SPIN_NANOS;
            }
            return null;
        }
    }
}
