package org.paligemma4j.model;

import org.paligemma4j.tensor.Attention;
import org.paligemma4j.tensor.AttentionMask;
import org.paligemma4j.tensor.HalfFloats;

/**
 * Keys and values of every decoder layer for the positions processed so far, so each generated token
 * attends to the prompt without recomputing it. Layout per layer: {@code [position, kvHeads·headDim]},
 * stored in float32 or, at {@link KvCachePrecision#BFLOAT16}, rounded to bfloat16.
 *
 * <p>A cache may {@linkplain #sharing share} a finished prompt's cache: its first positions are then read from
 * that cache (never copied) and only later positions are stored here. Beam search runs all its beams this way
 * over one prompt and, when beams are reordered, copies only their generated positions.
 */
public final class KvCache {
    /** Per layer, float32 storage; null at bfloat16. */
    private final float[][] keys, values;
    /** Per layer, bfloat16 storage; null at float32. */
    private final short[][] keys16, values16;
    /** The cache holding positions [0, sharedRows), or null when this cache holds every position itself. */
    final KvCache shared;
    final int sharedRows;
    private final KvCachePrecision precision;
    private final int capacity;
    private final int stride;
    private int length;

    /** A float32 cache, as the reference keeps it. */
    public KvCache(int layers, int capacity, int kvHeads, int headDim) {
        this(layers, capacity, kvHeads, headDim, KvCachePrecision.FLOAT32);
    }

    public KvCache(int layers, int capacity, int kvHeads, int headDim, KvCachePrecision precision) {
        this(null, 0, layers, capacity, kvHeads * headDim, precision);
    }

    private KvCache(KvCache shared, int sharedRows, int layers, int capacity, int stride, KvCachePrecision precision) {
        this.shared = shared;
        this.sharedRows = sharedRows;
        this.capacity = capacity;
        this.stride = stride;
        this.precision = precision;
        this.length = sharedRows;
        long perLayer = (long) (capacity - sharedRows) * stride;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache of " + capacity + " positions is too large");
        }
        boolean halves = precision == KvCachePrecision.BFLOAT16;
        keys = halves ? null : new float[layers][(int) perLayer];
        values = halves ? null : new float[layers][(int) perLayer];
        keys16 = halves ? new short[layers][(int) perLayer] : null;
        values16 = halves ? new short[layers][(int) perLayer] : null;
    }

    /**
     * A cache that continues {@code prompt} (whose positions it reads in place: {@code prompt} must not change
     * while this one is used) with room for {@code moreTokens} positions of its own, in the prompt's precision.
     */
    public static KvCache sharing(KvCache prompt, int moreTokens) {
        if (prompt.shared != null) throw new IllegalArgumentException("a shared cache must hold its positions itself");
        return new KvCache(prompt, prompt.length, prompt.layers(), prompt.length + moreTokens, prompt.stride, prompt.precision);
    }

    /** Makes this cache hold what {@code other} (sharing the same prompt) holds: copies only its own positions. */
    public void copyFrom(KvCache other) {
        if (other.shared != shared || other.sharedRows != sharedRows || other.capacity > capacity) {
            throw new IllegalArgumentException("caches that do not share the same prompt and size");
        }
        int n = (other.length - sharedRows) * stride;
        for (int l = 0; l < layers(); l++) {
            System.arraycopy(other.keyStore(l), 0, keyStore(l), 0, n);
            System.arraycopy(other.valueStore(l), 0, valueStore(l), 0, n);
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

    public KvCachePrecision precision() {
        return precision;
    }

    /** Bytes of keys and values this cache holds itself (a shared prompt's not counted). */
    public long bytes() {
        return 2L * layers() * (capacity - sharedRows) * stride * precision.bytesPerElement();
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

    /**
     * Stores the keys and values of {@code tokens} positions from {@code position} on in {@code layer}:
     * {@code tokens·stride} floats of {@code k} from {@code kOffset} and of {@code v} from {@code vOffset}.
     */
    void store(int layer, int position, int tokens, float[] k, int kOffset, float[] v, int vOffset) {
        int at = (position - sharedRows) * stride, n = tokens * stride;
        if (precision == KvCachePrecision.FLOAT32) {
            System.arraycopy(k, kOffset, keys[layer], at, n);
            System.arraycopy(v, vOffset, values[layer], at, n);
        } else {
            HalfFloats.roundToBf16(k, kOffset, keys16[layer], at, n);
            HalfFloats.roundToBf16(v, vOffset, values16[layer], at, n);
        }
    }

    /**
     * Attention of {@code queries} queries at positions {@code firstPosition…} over this cache's keys and
     * values of {@code layer} (the shared prompt's positions read in place), as {@link Attention#attend}.
     */
    void attend(int layer, float[] q, int queries, int firstPosition, int heads, int kvHeads, int headDim, float scale,
                float softCap, AttentionMask mask, float[] out) {
        boolean f32 = precision == KvCachePrecision.FLOAT32;
        if (shared == null) {
            if (f32) {
                Attention.attend(q, queries, firstPosition, keys[layer], values[layer], heads, kvHeads, headDim, scale, softCap, mask, out);
            } else {
                Attention.attend(q, queries, firstPosition, keys16[layer], values16[layer], heads, kvHeads, headDim, scale, softCap, mask, out);
            }
            return;
        }
        if (queries != 1) throw new IllegalArgumentException("a cache that shares a prompt takes one token per step");
        if (f32) {
            Attention.attendOneSplit(q, firstPosition, shared.keys[layer], shared.values[layer], sharedRows, keys[layer],
                    values[layer], heads, kvHeads, headDim, scale, softCap, mask, out);
        } else {
            Attention.attendOneSplit(q, firstPosition, shared.keys16[layer], shared.values16[layer], sharedRows, keys16[layer],
                    values16[layer], heads, kvHeads, headDim, scale, softCap, mask, out);
        }
    }

    private int layers() {
        return keys != null ? keys.length : keys16.length;
    }

    private Object keyStore(int layer) {
        return keys != null ? keys[layer] : keys16[layer];
    }

    private Object valueStore(int layer) {
        return values != null ? values[layer] : values16[layer];
    }
}
