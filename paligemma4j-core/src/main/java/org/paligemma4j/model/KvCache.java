package org.paligemma4j.model;

/**
 * Keys and values of every decoder layer for the positions processed so far, so each generated token
 * attends to the prompt without recomputing it. Layout per layer: {@code [position, kvHeads·headDim]}.
 *
 * <p>A cache may {@linkplain #sharing share} a finished prompt's cache: its first positions are then read from
 * that cache (never copied) and only later positions are stored here. Beam search runs all its beams this way
 * over one prompt and, when beams are reordered, copies only their generated positions.
 */
public final class KvCache {
    final float[][] keys;
    final float[][] values;
    /** The cache holding positions [0, sharedRows), or null when this cache holds every position itself. */
    final KvCache shared;
    final int sharedRows;
    private final int capacity;
    private final int stride;
    private int length;

    public KvCache(int layers, int capacity, int kvHeads, int headDim) {
        this(null, 0, layers, capacity, kvHeads * headDim);
    }

    private KvCache(KvCache shared, int sharedRows, int layers, int capacity, int stride) {
        this.shared = shared;
        this.sharedRows = sharedRows;
        this.capacity = capacity;
        this.stride = stride;
        this.length = sharedRows;
        long perLayer = (long) (capacity - sharedRows) * stride;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache of " + capacity + " positions is too large");
        }
        keys = new float[layers][(int) perLayer];
        values = new float[layers][(int) perLayer];
    }

    /**
     * A cache that continues {@code prompt} (whose positions it reads in place: {@code prompt} must not change
     * while this one is used) with room for {@code moreTokens} positions of its own.
     */
    public static KvCache sharing(KvCache prompt, int moreTokens) {
        if (prompt.shared != null) throw new IllegalArgumentException("a shared cache must hold its positions itself");
        return new KvCache(prompt, prompt.length, prompt.keys.length, prompt.length + moreTokens, prompt.stride);
    }

    /** Makes this cache hold what {@code other} (sharing the same prompt) holds: copies only its own positions. */
    public void copyFrom(KvCache other) {
        if (other.shared != shared || other.sharedRows != sharedRows || other.capacity > capacity) {
            throw new IllegalArgumentException("caches that do not share the same prompt and size");
        }
        int n = (other.length - sharedRows) * stride;
        for (int l = 0; l < keys.length; l++) {
            System.arraycopy(other.keys[l], 0, keys[l], 0, n);
            System.arraycopy(other.values[l], 0, values[l], 0, n);
        }
        length = other.length;
    }

    /** Positions filled so far (shared ones included). */
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
