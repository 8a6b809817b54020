package org.paligemma4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class WorkerPoolTest {

    @Test
    void everyItemRunsExactlyOnceOverManyLoops() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int n : new int[] {1, 2, 3, 7, 64, 1000}) {
                for (int repeat = 0; repeat < 200; repeat++) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    pool.run(n, hits::incrementAndGet);
                    for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "item " + i + " of " + n);
                }
            }
        }
    }

    @Test
    void itemsRunOnSeveralThreadsWhenTheyAreSlowEnoughToShare() {
        try (WorkerPool pool = new WorkerPool(2)) {
            Set<Thread> seen = runTwoItemsThatWaitForEachOther(pool);
            assertEquals(2, seen.size());
            assertTrue(seen.contains(Thread.currentThread()), "the caller takes items too");
        }
    }

    /**
     * Runs two items that each wait for the other to start: only two threads running at once can finish
     * them (otherwise an item fails after 10 s). Returns the threads that ran them.
     */
    private static Set<Thread> runTwoItemsThatWaitForEachOther(WorkerPool pool) {
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        CountDownLatch bothStarted = new CountDownLatch(2);
        pool.run(2, i -> {
            seen.add(Thread.currentThread());
            bothStarted.countDown();
            try {
                assertTrue(bothStarted.await(10, java.util.concurrent.TimeUnit.SECONDS), "the other item never ran in parallel");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        return seen;
    }

    @Test
    void theFirstFailureReachesTheCallerAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.run(100, i -> {
                if (i == 37) throw new IllegalArgumentException("item 37");
            }));
            assertEquals("item 37", e.getMessage());
            AtomicIntegerArray hits = new AtomicIntegerArray(50);
            pool.run(50, hits::incrementAndGet);
            for (int i = 0; i < 50; i++) assertEquals(1, hits.get(i));
        }
    }

    @Test
    void errorsAreRethrownAsThemselves() {
        try (WorkerPool pool = new WorkerPool(2)) {
            StackOverflowError error = new StackOverflowError("deep");
            assertSame(error, assertThrows(StackOverflowError.class, () -> pool.run(10, i -> {
                if (i == 3) throw error;
            })));
        }
    }

    @Test
    void aLoopInsideALoopRunsOnItsCallersThread() {
        try (WorkerPool pool = new WorkerPool(2)) {
            int[][] sums = new int[8][];
            pool.run(8, i -> {
                Thread outer = Thread.currentThread();
                int[] inner = new int[16];
                pool.run(16, j -> {
                    assertSame(outer, Thread.currentThread());
                    inner[j] = i * j;
                });
                sums[i] = inner;
            });
            for (int i = 0; i < 8; i++) {
                int[] expected = new int[16];
                for (int j = 0; j < 16; j++) expected[j] = i * j;
                assertArrayEquals(expected, sums[i]);
            }
        }
    }

    @Test
    void concurrentCallersEachGetAllTheirItems() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2)) {
            Thread[] callers = new Thread[4];
            Throwable[] failures = new Throwable[callers.length];
            for (int c = 0; c < callers.length; c++) {
                int caller = c;
                callers[c] = new Thread(() -> {
                    try {
                        for (int repeat = 0; repeat < 300; repeat++) {
                            AtomicIntegerArray hits = new AtomicIntegerArray(33);
                            pool.run(33, hits::incrementAndGet);
                            for (int i = 0; i < 33; i++) assertEquals(1, hits.get(i));
                        }
                    } catch (Throwable t) {
                        failures[caller] = t;
                    }
                });
                callers[c].start();
            }
            for (Thread t : callers) t.join();
            for (Throwable t : failures) {
                if (t != null) throw new AssertionError(t);
            }
        }
    }

    @Test
    void idleWorkersParkAndWakeForTheNextLoop() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2)) {
            pool.run(4, i -> {});
            Thread.sleep(Duration.ofMillis(50)); // well past the spin period: the worker is parked now
            assertEquals(2, runTwoItemsThatWaitForEachOther(pool).size(), "the parked worker was not woken");
        }
    }

    @Test
    void oneThreadMeansTheCallerAlone() {
        try (WorkerPool pool = new WorkerPool(1)) {
            assertEquals(1, pool.threads());
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            pool.run(20, i -> seen.add(Thread.currentThread()));
            assertEquals(Set.of(Thread.currentThread()), seen);
        }
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(0));
    }
}
