package org.paligemma4j.model;

/**
 * Keys and values of every decoder layer for the positions processed so far, so each generated token
 * attends to the prompt without recomputing it. Layout per layer: {@code [position, kvHeads·headDim]}.
 */
public final class KvCache {
    final float[][] keys;
    final float[][] values;
    private final int capacity;
    private final int stride;
    private int length;

    public KvCache(int layers, int capacity, int kvHeads, int headDim) {
        this.capacity = capacity;
        this.stride = kvHeads * headDim;
        long perLayer = (long) capacity * stride;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache of " + capacity + " positions is too large");
        }
        keys = new float[layers][(int) perLayer];
        values = new float[layers][(int) perLayer];
    }

    /** Positions filled so far. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    void advance(int tokens) {
        length += tokens;
    }

    void ensureRoom(int tokens) {
        if (length + tokens > capacity) {
            throw new IllegalStateException("KV cache holds " + capacity + " positions; cannot add " + tokens
                    + " to the " + length + " already there");
        }
    }

    int stride() {
        return stride;
    }
}
