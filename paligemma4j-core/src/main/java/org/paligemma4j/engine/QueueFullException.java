package org.paligemma4j.engine;

/** The engine's queue is full: the request was not accepted; try again later. */
public final class QueueFullException extends RuntimeException {
    public QueueFullException(int maxQueue) {
        super("the engine is busy: " + maxQueue + " requests are already waiting; try again later");
    }
}
