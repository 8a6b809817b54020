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
    /**
     * Float32 storage (null at bfloat16): as few arrays as can hold every layer, layer l in array
     * {@code l / layersPerArray} from {@code (l % layersPerArray)·layerElements} on. One array for all layers,
     * rather than one per layer, matters to the garbage collector: a cache of a long prompt (0.9 GB at 896 px)
     * is then one allocation larger than the young generation, placed straight in the old generation, where
     * 52 arrays of 17 MB each were copied by 10–15 young collections first.
     */
    private final float[][] keys, values;
    /** Bfloat16 storage, laid out as {@link #keys}; null at float32. */
    private final short[][] keys16, values16;
    private final int layers, layersPerArray, layerElements;
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
        this(null, 0, layers, capacity, kvHeads * headDim, precision, MAX_ARRAY);
    }

    /** A cache whose arrays hold at most {@code maxArray} elements each (tests: several layers per array, or one). */
    KvCache(int layers, int capacity, int kvHeads, int headDim, KvCachePrecision precision, int maxArray) {
        this(null, 0, layers, capacity, kvHeads * headDim, precision, maxArray);
    }

    private KvCache(KvCache shared, int sharedRows, int layers, int capacity, int stride, KvCachePrecision precision,
                    int maxArray) {
        this.shared = shared;
        this.sharedRows = sharedRows;
        this.capacity = capacity;
        this.stride = stride;
        this.precision = precision;
        this.length = sharedRows;
        long perLayer = (long) (capacity - sharedRows) * stride;
        if (perLayer > maxArray) {
            throw new IllegalArgumentException("KV cache of " + capacity + " positions is too large");
        }
        this.layers = layers;
        this.layerElements = (int) perLayer;
        this.layersPerArray = perLayer == 0 ? layers : (int) Math.max(1, Math.min(layers, maxArray / perLayer));
        int arrays = (layers + layersPerArray - 1) / layersPerArray;
        boolean halves = precision == KvCachePrecision.BFLOAT16;
        keys = halves ? null : new float[arrays][];
        values = halves ? null : new float[arrays][];
        keys16 = halves ? new short[arrays][] : null;
        values16 = halves ? new short[arrays][] : null;
        for (int a = 0; a < arrays; a++) {
            int length = Math.min(layersPerArray, layers - a * layersPerArray) * layerElements;
            if (halves) {
                keys16[a] = new short[length];
                values16[a] = new short[length];
            } else {
                keys[a] = new float[length];
                values[a] = new float[length];
            }
        }
    }

    /** The longest array the JVM allocates. */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * A cache that continues {@code prompt} (whose positions it reads in place: {@code prompt} must not change
     * while this one is used) with room for {@code moreTokens} positions of its own, in the prompt's precision.
     */
    public static KvCache sharing(KvCache prompt, int moreTokens) {
        if (prompt.shared != null) throw new IllegalArgumentException("a shared cache must hold its positions itself");
        return new KvCache(prompt, prompt.length, prompt.layers, prompt.length + moreTokens, prompt.stride, prompt.precision,
                MAX_ARRAY);
    }

    /** Makes this cache hold what {@code other} (sharing the same prompt) holds: copies only its own positions. */
    public void copyFrom(KvCache other) {
        if (other.shared != shared || other.sharedRows != sharedRows || other.capacity > capacity) {
            throw new IllegalArgumentException("caches that do not share the same prompt and size");
        }
        int n = (other.length - sharedRows) * stride;
        for (int l = 0; l < layers; l++) {
            System.arraycopy(other.keyArray(l), other.base(l), keyArray(l), base(l), n);
            System.arraycopy(other.valueArray(l), other.base(l), valueArray(l), base(l), n);
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
        return 2L * layers * layerElements * precision.bytesPerElement();
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

    /**
     * Stores the keys and values of {@code tokens} positions from {@code position} on in {@code layer}:
     * {@code tokens·stride} floats of {@code k} from {@code kOffset} and of {@code v} from {@code vOffset}.
     */
    void store(int layer, int position, int tokens, float[] k, int kOffset, float[] v, int vOffset) {
        int at = base(layer) + (position - sharedRows) * stride, n = tokens * stride, a = layer / layersPerArray;
        if (precision == KvCachePrecision.FLOAT32) {
            System.arraycopy(k, kOffset, keys[a], at, n);
            System.arraycopy(v, vOffset, values[a], at, n);
        } else {
            HalfFloats.roundToBf16(k, kOffset, keys16[a], at, n);
            HalfFloats.roundToBf16(v, vOffset, values16[a], at, n);
        }
    }

    /**
     * Attention of {@code queries} queries at positions {@code firstPosition…} over this cache's keys and
     * values of {@code layer} (the shared prompt's positions read in place), as {@link Attention#attend}.
     */
    void attend(int layer, float[] q, int queries, int firstPosition, int heads, int kvHeads, int headDim, float scale,
                float softCap, AttentionMask mask, float[] out) {
        boolean f32 = precision == KvCachePrecision.FLOAT32;
        int a = layer / layersPerArray, base = base(layer);
        if (shared == null) {
            if (f32) {
                Attention.attend(q, queries, firstPosition, keys[a], values[a], base, heads, kvHeads, headDim, scale, softCap, mask, out);
            } else {
                Attention.attend(q, queries, firstPosition, keys16[a], values16[a], base, heads, kvHeads, headDim, scale, softCap, mask,
                        out);
            }
            return;
        }
        if (queries != 1) throw new IllegalArgumentException("a cache that shares a prompt takes one token per step");
        int sa = layer / shared.layersPerArray, sharedBase = shared.base(layer);
        if (f32) {
            Attention.attendOneSplit(q, firstPosition, shared.keys[sa], shared.values[sa], sharedBase, sharedRows, keys[a], values[a],
                    base, heads, kvHeads, headDim, scale, softCap, mask, out);
        } else {
            Attention.attendOneSplit(q, firstPosition, shared.keys16[sa], shared.values16[sa], sharedBase, sharedRows, keys16[a],
                    values16[a], base, heads, kvHeads, headDim, scale, softCap, mask, out);
        }
    }

    /** Where {@code layer}'s row 0 begins in its array. */
    private int base(int layer) {
        return layer % layersPerArray * layerElements;
    }

    private Object keyArray(int layer) {
        return keys != null ? keys[layer / layersPerArray] : keys16[layer / layersPerArray];
    }

    private Object valueArray(int layer) {
        return values != null ? values[layer / layersPerArray] : values16[layer / layersPerArray];
    }
}
