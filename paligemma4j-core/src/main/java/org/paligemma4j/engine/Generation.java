package org.paligemma4j.engine;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.paligemma4j.generate.GenerationResult;

/**
 * A submitted request: its result when it ends, and a way to end it early. A cancelled, timed-out or shut-down
 * generation still completes normally, with what it produced so far and the matching finish reason; the
 * future fails only when the request itself could not run (an undecodable image, a bug).
 */
public final class Generation {
    private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    private volatile boolean cancelled;

    Generation() {}

    public CompletableFuture<GenerationResult> result() {
        return result;
    }

    /** Asks the engine to end this generation at its next step (a client that went away); frees its slot. */
    public void cancel() {
        cancelled = true;
    }

    public boolean cancelRequested() {
        return cancelled;
    }

    /** Waits for the result; a failure is rethrown as the unchecked exception that caused it. */
    public GenerationResult await() throws InterruptedException {
        try {
            return result.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        }
    }
}
