package org.paligemma4j.tensor;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scaled dot-product attention with grouped key/value heads, an optional logit soft cap and a
 * contiguous-range mask, in the reference's order of operations: scores {@code (q·k)·scale}, then
 * {@code softCap}, then mask, then float32 softmax, then the weighted sum of values.
 *
 * <p>Each key/value head is processed once for all the query heads that share it. With many queries
 * (vision tokens, prefill) the head's keys are first transposed to {@code [headDim, positions]} so that
 * scores for 16 keys come out of one vector FMA per dimension, with no horizontal sums; a single query
 * (decode) takes plain dot products instead.
 */
public final class Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** From this many queries on, transposing the keys pays for itself. */
    private static final int TRANSPOSE_MIN_QUERIES = 8;
    /** From this many queries on, scores and weighted values are computed as two packed GEMMs per head. */
    private static final int GEMM_MIN_QUERIES = 64;

    private Attention() {}

    /**
     * @param q        queries {@code [queries, heads·headDim]}; query i sits at position {@code firstPosition + i}
     * @param keys     keys {@code [positions, kvHeads·headDim]} (a KV cache: position p at row p)
     * @param values   values, same layout as keys
     * @param out      {@code [queries, heads·headDim]}
     * @param softCap  0 for none
     */
    public static void attend(float[] q, int queries, int firstPosition, float[] keys, float[] values,
                              int heads, int kvHeads, int headDim, float scale, float softCap,
                              AttentionMask mask, float[] out) {
        attend(q, queries, firstPosition, keys, values, 0, heads, kvHeads, headDim, scale, softCap, mask, out);
    }

    /**
     * As {@link #attend(float[], int, int, float[], float[], int, int, int, float, float, AttentionMask, float[])}
     * over keys and values whose row 0 begins at {@code base} in their arrays (a cache holding several layers in
     * one array).
     */
    public static void attend(float[] q, int queries, int firstPosition, float[] keys, float[] values, int base,
                              int heads, int kvHeads, int headDim, float scale, float softCap,
                              AttentionMask mask, float[] out) {
        int groups = heads / kvHeads;
        int positions = mask.endVisibleKeys(firstPosition + queries - 1);
        for (int i = 0; i < queries; i++) positions = Math.max(positions, mask.endVisibleKeys(firstPosition + i));
        int kvStride = kvHeads * headDim;
        checkRows(base, positions, kvStride, keys.length, values.length);
        final int keyCount = positions;
        if (queries >= GEMM_MIN_QUERIES) {
            attendByGemm(q, queries, firstPosition, keys, values, base, heads, kvHeads, headDim, scale, softCap, mask, out, keyCount);
            return;
        }
        if (queries < TRANSPOSE_MIN_QUERIES) {
            for (int i = 0; i < queries; i++) {
                int pos = firstPosition + i, end = mask.endVisibleKeys(pos);
                attendOneQuery(q, i * heads * headDim, pos, keys, values, base, end, keys, values, base, heads, kvHeads, headDim,
                        scale, softCap, mask, out);
            }
            return;
        }
        // Work items: (kv head, block of queries). Every item handles all query heads of its kv head.
        int queryBlock = 16;
        int blocks = (queries + queryBlock - 1) / queryBlock;
        float[][] transposed = new float[kvHeads][];
        Parallel.forEach(kvHeads, kvh -> transposed[kvh] = transposeKeys(keys, base, kvh, kvStride, headDim, keyCount));
        Parallel.forEach(kvHeads * blocks, item -> {
            int kvh = item / blocks, block = item % blocks;
            float[] scores = new float[keyCount + L];
            int q0 = block * queryBlock, q1 = Math.min(queries, q0 + queryBlock);
            for (int g = 0; g < groups; g++) {
                int h = kvh * groups + g;
                for (int i = q0; i < q1; i++) {
                    int pos = firstPosition + i;
                    int lo = mask.firstVisibleKey(pos), hi = mask.endVisibleKeys(pos);
                    int qo = i * heads * headDim + h * headDim;
                    scoresTransposed(q, qo, transposed[kvh], keyCount, headDim, lo, hi, scores);
                    finishScores(scores, lo, hi, scale, softCap);
                    weightedValues(scores, lo, hi, values, kvStride, base + kvh * headDim, headDim, out, qo);
                }
            }
        });
    }

    /**
     * As {@link #attend(float[], int, int, float[], float[], int, int, int, float, float, AttentionMask, float[])}
     * over keys and values stored as bfloat16 (a halved KV cache): each is widened to float32 as it is read,
     * so the results are exactly those of the float32 method over the widened values. A few queries (decode)
     * widen them in registers as the dot products load them; many queries widen the visible rows once into a
     * scratch array, a small cost beside their products.
     */
    public static void attend(float[] q, int queries, int firstPosition, short[] keys, short[] values, int base,
                              int heads, int kvHeads, int headDim, float scale, float softCap,
                              AttentionMask mask, float[] out) {
        int positions = 0;
        for (int i = 0; i < queries; i++) positions = Math.max(positions, mask.endVisibleKeys(firstPosition + i));
        int kvStride = kvHeads * headDim;
        checkRows(base, positions, kvStride, keys.length, values.length);
        if (queries < TRANSPOSE_MIN_QUERIES) {
            for (int i = 0; i < queries; i++) {
                int pos = firstPosition + i, end = mask.endVisibleKeys(pos);
                attendOneQuery(q, i * heads * headDim, pos, keys, values, base, end, keys, values, base, heads, kvHeads, headDim,
                        scale, softCap, mask, out);
            }
            return;
        }
        int n = positions * kvStride;
        float[] wideKeys = WIDE_KEYS.atLeast(n), wideValues = WIDE_VALUES.atLeast(n);
        HalfFloats.widenBf16(keys, base, wideKeys, 0, n);
        HalfFloats.widenBf16(values, base, wideValues, 0, n);
        attend(q, queries, firstPosition, wideKeys, wideValues, 0, heads, kvHeads, headDim, scale, softCap, mask, out);
    }

    /** Rows [0, positions) from {@code base} must lie inside both arrays. */
    private static void checkRows(int base, int positions, int kvStride, int keysLength, int valuesLength) {
        long end = base + (long) positions * kvStride;
        if (base < 0 || end > keysLength || end > valuesLength) {
            throw new IllegalArgumentException("attention over " + positions + " positions, but the cache holds "
                    + Math.max(0, Math.min(keysLength, valuesLength) - base) / kvStride);
        }
    }

    /**
     * One query at {@code position} over keys held in two parts: positions below {@code sharedRows} in
     * {@code sharedKeys/sharedValues} (a prompt several sequences share, such as beams), the rest in
     * {@code keys/values} starting at row 0. The same sums in the same order as {@link #attend} over one
     * array holding both parts, so sharing a prompt changes no result.
     */
    public static void attendOneSplit(float[] q, int position, float[] sharedKeys, float[] sharedValues, int sharedRows,
                                      float[] keys, float[] values, int heads, int kvHeads, int headDim, float scale,
                                      float softCap, AttentionMask mask, float[] out) {
        attendOneSplit(q, position, sharedKeys, sharedValues, 0, sharedRows, keys, values, 0, heads, kvHeads, headDim, scale, softCap,
                mask, out);
    }

    /** As the method above, with each part's row 0 at {@code sharedBase} and {@code base} of its arrays. */
    public static void attendOneSplit(float[] q, int position, float[] sharedKeys, float[] sharedValues, int sharedBase,
                                      int sharedRows, float[] keys, float[] values, int base, int heads, int kvHeads, int headDim,
                                      float scale, float softCap, AttentionMask mask, float[] out) {
        int kvStride = kvHeads * headDim, hi = mask.endVisibleKeys(position);
        checkRows(sharedBase, Math.min(hi, sharedRows), kvStride, sharedKeys.length, sharedValues.length);
        checkRows(base, Math.max(0, hi - sharedRows), kvStride, keys.length, values.length);
        attendOneQuery(q, 0, position, sharedKeys, sharedValues, sharedBase, sharedRows, keys, values, base, heads, kvHeads, headDim,
                scale, softCap, mask, out);
    }

    /**
     * As {@link #attendOneSplit(float[], int, float[], float[], int, int, float[], float[], int, int, int, int, float, float,
     * AttentionMask, float[])} over bfloat16 parts.
     */
    public static void attendOneSplit(float[] q, int position, short[] sharedKeys, short[] sharedValues, int sharedBase,
                                      int sharedRows, short[] keys, short[] values, int base, int heads, int kvHeads, int headDim,
                                      float scale, float softCap, AttentionMask mask, float[] out) {
        int kvStride = kvHeads * headDim, hi = mask.endVisibleKeys(position);
        checkRows(sharedBase, Math.min(hi, sharedRows), kvStride, sharedKeys.length, sharedValues.length);
        checkRows(base, Math.max(0, hi - sharedRows), kvStride, keys.length, values.length);
        attendOneQuery(q, 0, position, sharedKeys, sharedValues, sharedBase, sharedRows, keys, values, base, heads, kvHeads, headDim,
                scale, softCap, mask, out);
    }

    /**
     * One query (decode) over keys in two parts, as {@link #attendOneSplit} describes (one part only when
     * {@code sharedRows} covers every visible key). A key/value head's cache is read from memory once for
     * all the query heads that share it: keys and values go in chunks of {@link #KEY_CHUNK_FLOATS}, each
     * chunk used by every head of the work item while it is in cache. (One head after another read the
     * whole cache once per head: Gemma 2 2B's two heads per kv head streamed a 4,100-position cache at 13
     * GB/s, and PaliGemma 1's eight heads sharing one kv head read it eight times, on one thread.) When
     * there are fewer kv heads than threads, each kv head's query heads are split between threads.
     * Every score and every output is summed in the same order as over the whole range at once.
     */
    private static void attendOneQuery(float[] q, int qOffset, int position, Object sharedKeys, Object sharedValues, int sharedBase,
                                       int sharedRows, Object keys, Object values, int base, int heads, int kvHeads, int headDim,
                                       float scale, float softCap, AttentionMask mask, float[] out) {
        int groups = heads / kvHeads, kvStride = kvHeads * headDim;
        int lo = mask.firstVisibleKey(position), hi = mask.endVisibleKeys(position);
        int split = Math.max(lo, Math.min(hi, sharedRows));
        // The second part's rows start at position sharedRows: offsetting its head by that many rows lets the
        // helpers index both parts by position.
        int shift = sharedRows * kvStride - base;
        int splits = Math.min(groups, Math.max(1, (Parallel.threads() + kvHeads - 1) / kvHeads));
        int headsPerItem = (groups + splits - 1) / splits;
        int chunk = Math.max(4, KEY_CHUNK_FLOATS / headDim / 4 * 4), width = hi + L;
        Parallel.forEach(kvHeads * splits, item -> {
            int kvh = item / splits, g0 = item % splits * headsPerItem, g1 = Math.min(groups, g0 + headsPerItem);
            if (g0 >= g1) return;
            int head = kvh * headDim, sharedHead = sharedBase + head;
            float[] scores = DECODE_SCORES.atLeast((g1 - g0) * width);
            boolean halves = keys instanceof short[];
            for (int c0 = lo; c0 < hi; c0 += chunk) {
                int c1 = Math.min(hi, c0 + chunk), mid = Math.max(c0, Math.min(c1, split));
                for (int g = g0; g < g1; g++) {
                    int qo = qOffset + (kvh * groups + g) * headDim, so = (g - g0) * width;
                    if (halves) {
                        scoresByDotsBf16(q, qo, (short[]) sharedKeys, kvStride, sharedHead, headDim, c0, mid, scores, so);
                        scoresByDotsBf16(q, qo, (short[]) keys, kvStride, head - shift, headDim, mid, c1, scores, so);
                    } else {
                        scoresByDots(q, qo, (float[]) sharedKeys, kvStride, sharedHead, headDim, c0, mid, scores, so);
                        scoresByDots(q, qo, (float[]) keys, kvStride, head - shift, headDim, mid, c1, scores, so);
                    }
                }
            }
            for (int g = g0; g < g1; g++) {
                int so = (g - g0) * width, oo = qOffset + (kvh * groups + g) * headDim;
                finishScores(scores, so + lo, so + hi, scale, softCap);
                Arrays.fill(out, oo, oo + headDim, 0f);
            }
            for (int c0 = lo; c0 < hi; c0 += chunk) {
                int c1 = Math.min(hi, c0 + chunk), mid = Math.max(c0, Math.min(c1, split));
                for (int g = g0; g < g1; g++) {
                    int so = (g - g0) * width, oo = qOffset + (kvh * groups + g) * headDim;
                    if (halves) {
                        accumulateWeightedValuesBf16(scores, so, c0, mid, (short[]) sharedValues, kvStride, sharedHead, headDim, out, oo);
                        accumulateWeightedValuesBf16(scores, so, mid, c1, (short[]) values, kvStride, head - shift, headDim, out, oo);
                    } else {
                        accumulateWeightedValues(scores, so, c0, mid, (float[]) sharedValues, kvStride, sharedHead, headDim, out, oo);
                        accumulateWeightedValues(scores, so, mid, c1, (float[]) values, kvStride, head - shift, headDim, out, oo);
                    }
                }
            }
        });
    }

    /** Keys (then values) per chunk of one-query attention: 64 KB, in the core's own cache while its heads use them. */
    private static final int KEY_CHUNK_FLOATS = 16384;

    /**
     * Many queries (vision, prefill): per head and strip of {@link #STRIP_QUERIES} queries, scores
     * {@code S = Q·Kᵀ} and outputs {@code O = P·V} are matrix products, so they run on the same
     * register-tiled GEMM as the projections.
     *
     * <p>Only one strip of scores exists at a time per thread, {@code [strip queries, keys the strip can
     * see]}: at 896 px (4,096 image tokens) a head's whole score matrix would be 64 MB, written by one
     * product and read back by the softmax and the next product from memory; a strip stays in cache, and
     * keys no query of the strip sees (before a sliding window, after the causal edge) are never scored.
     * Each row's softmax is still taken over all its scores at once, as the reference does, so the results
     * are those of the whole-matrix product (bit for bit where every query sees every key).
     */
    private static void attendByGemm(float[] q, int queries, int firstPosition, float[] keys, float[] values, int base, int heads,
                                     int kvHeads, int headDim, float scale, float softCap, AttentionMask mask, float[] out,
                                     int positions) {
        int groups = heads / kvHeads, kvStride = kvHeads * headDim, qStride = heads * headDim;
        // Every kv head's values as [headDim, positions], in one buffer of the calling thread kept between
        // calls (SigLIP allocated 32 MB of them per image): written per head by any thread, then read.
        int headValues = headDim * positions;
        float[] valuesByDim = TRANSPOSED_VALUES.atLeast(kvHeads * headValues);
        Parallel.forEach(kvHeads, kvh -> {
            ArrayMatrix headValuesByPosition = new ArrayMatrix("values", values, base + kvh * headDim, kvStride, positions, headDim);
            TileTranspose.transpose(headValuesByPosition, valuesByDim, kvh * headValues, positions);
        });
        // One (head, strip) per task, its two products single-threaded: the tasks keep every core busy.
        // Queries and keys are read in place, as this head's columns of their arrays.
        int strips = (queries + STRIP_QUERIES - 1) / STRIP_QUERIES;
        Parallel.forEach(heads * strips, item -> {
            int h = item / strips, q0 = item % strips * STRIP_QUERIES, stripQueries = Math.min(STRIP_QUERIES, queries - q0);
            int kvh = h / groups;
            int from = positions, to = 0; // the keys some query of the strip sees
            for (int i = q0; i < q0 + stripQueries; i++) {
                from = Math.min(from, mask.firstVisibleKey(firstPosition + i));
                to = Math.max(to, mask.endVisibleKeys(firstPosition + i));
            }
            int span = to - from;
            float[] scores = SCORES.atLeast(stripQueries * span), oh = OUTPUTS.atLeast(headDim * stripQueries);
            ArrayMatrix headKeys = new ArrayMatrix("keys", keys, base + from * kvStride + kvh * headDim, kvStride, span, headDim);
            PackedGemm.multiplySerial(headKeys, q, q0 * qStride + h * headDim, qStride, stripQueries, scores); // [strip, span]
            for (int i = 0; i < stripQueries; i++) {
                int pos = firstPosition + q0 + i, lo = mask.firstVisibleKey(pos) - from, hi = mask.endVisibleKeys(pos) - from;
                int row = i * span;
                finishScores(scores, row + lo, row + hi, scale, softCap);
                Arrays.fill(scores, row, row + lo, 0f);
                Arrays.fill(scores, row + hi, row + span, 0f);
            }
            // Oᵀ = P·V with the probabilities as the packed operand: its rows (queries) fill whole panels
            // where a head dimension such as SigLIP's 72 would leave one a quarter full. Same sums, same order.
            PackedGemm.multiplySerial(new ArrayMatrix("probabilities", scores, stripQueries, span), valuesByDim,
                    kvh * headValues + from, positions, headDim, oh);
            TileTranspose.transpose(new ArrayMatrix("outputs", oh, headDim, stripQueries), out, q0 * qStride + h * headDim, qStride);
        });
    }

    /**
     * Queries per strip of scores: 384 queries over 4,100 keys are 6 MB, held in the shared cache while the
     * softmax and the second product read them back. Measured on 896 px shapes (AMD EPYC, 2 threads), SigLIP's
     * attention (4,096 queries, 16 heads of 72) took 0.36–0.37 s with strips of 384 against 0.38 s with 192
     * and 0.43 s over whole score matrices; Gemma 2's (4,100 queries, 8 heads of 256) 0.48 s with 384, as
     * before, and 0.53 s with 192, where each strip repacks the values for its second product.
     */
    static final int STRIP_QUERIES = 384;

    /** Each thread's buffers, kept between calls (a head's scores are 256 KB at 256 queries). */
    private static final ThreadBuffer SCORES = new ThreadBuffer(), OUTPUTS = new ThreadBuffer(), TRANSPOSED_VALUES = new ThreadBuffer(),
            DECODE_SCORES = new ThreadBuffer(), WIDE_KEYS = new ThreadBuffer(), WIDE_VALUES = new ThreadBuffer();

    /** {@code [positions, kvHeads·headDim]} → this head's keys as {@code [headDim, positions]} (rows padded to whole vectors). */
    private static float[] transposeKeys(float[] keys, int base, int kvh, int kvStride, int headDim, int positions) {
        int width = positions + L;
        float[] t = new float[headDim * width];
        TileTranspose.transpose(new ArrayMatrix("keys", keys, base + kvh * headDim, kvStride, positions, headDim), t, 0, width);
        return t;
    }

    /** scores[lo, hi) = q · k_j, 16 keys per vector: one broadcast query element times a row of transposed keys. */
    private static void scoresTransposed(float[] q, int qo, float[] kt, int positions, int headDim, int lo, int hi,
                                         float[] scores) {
        int width = positions + L;
        int start = lo - lo % L;
        for (int j = start; j < hi; j += L) {
            FloatVector acc = FloatVector.zero(F);
            for (int d = 0; d < headDim; d++) {
                acc = FloatVector.fromArray(F, kt, d * width + j).fma(FloatVector.broadcast(F, q[qo + d]), acc);
            }
            acc.intoArray(scores, j);
        }
    }

    /**
     * Scale, soft-cap and softmax over the visible range, in place. Three small passes, each its own
     * method taking arrays: the vector exp and tanh must inline into their loops (a vector crossing a
     * call that is not inlined is boxed). In one method, once Gemma 2's soft-capped prefill had warmed the
     * soft-cap branch, the JIT stopped inlining exp there and SigLIP's attention slowed down by a third.
     */
    private static void finishScores(float[] s, int lo, int hi, float scale, float softCap) {
        float max = softCap > 0 ? scaleSoftCapAndMax(s, lo, hi, scale, softCap) : scaleAndMax(s, lo, hi, scale);
        float inv = (float) (1.0 / exponentiateAndSum(s, lo, hi, max));
        int i = lo;
        for (; i + L <= hi; i += L) FloatVector.fromArray(F, s, i).mul(inv).intoArray(s, i);
        for (; i < hi; i++) s[i] *= inv;
    }

    /** {@code s[i] *= scale} over [lo, hi); returns the largest. */
    private static float scaleAndMax(float[] s, int lo, int hi, float scale) {
        int i = lo;
        FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; i + L <= hi; i += L) {
            FloatVector v = FloatVector.fromArray(F, s, i).mul(scale);
            v.intoArray(s, i);
            max = max.max(v);
        }
        float m = max.reduceLanes(VectorOperators.MAX);
        for (; i < hi; i++) m = Math.max(m, s[i] *= scale);
        return m;
    }

    /** {@code s[i] = softCap(s[i] · scale)} over [lo, hi); returns the largest. */
    private static float scaleSoftCapAndMax(float[] s, int lo, int hi, float scale, float softCap) {
        int i = lo;
        FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; i + L <= hi; i += L) {
            FloatVector v = Ops.softCap(FloatVector.fromArray(F, s, i).mul(scale), softCap);
            v.intoArray(s, i);
            max = max.max(v);
        }
        float m = max.reduceLanes(VectorOperators.MAX);
        for (; i < hi; i++) m = Math.max(m, s[i] = Ops.softCap(s[i] * scale, softCap));
        return m;
    }

    /** {@code s[i] = exp(s[i] − max)} over [lo, hi); returns their sum. */
    private static double exponentiateAndSum(float[] s, int lo, int hi, float max) {
        int i = lo;
        FloatVector vm = FloatVector.broadcast(F, max);
        FloatVector sum = FloatVector.zero(F);
        for (; i + L <= hi; i += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, s, i).sub(vm));
            e.intoArray(s, i);
            sum = sum.add(e);
        }
        double total = Ops.sumLanes(sum);
        for (; i < hi; i++) {
            float e = (float) Math.exp(s[i] - max);
            s[i] = e;
            total += e;
        }
        return total;
    }

    /**
     * out[qo…] = Σ_j p_j · v_j over the visible keys, walking the cache row by row (contiguous) and
     * accumulating each output in place by FMAs in key order, four keys per pass over the outputs. Going
     * down a column of the cache instead, one head-dimension slice at a time, read rows a cache stride
     * apart that all fell into the same L1 set (with the four-key dot products of {@link #scoresByDots},
     * decode attention over 350 positions went from 4.2 to 1.75 ms per Gemma 2 token).
     */
    private static void weightedValues(float[] p, int lo, int hi, float[] values, int kvStride, int headOffset, int headDim,
                                       float[] out, int oo) {
        Arrays.fill(out, oo, oo + headDim, 0f);
        accumulateWeightedValues(p, 0, lo, hi, values, kvStride, headOffset, headDim, out, oo);
    }

    /**
     * out[qo…] += Σ_j p_j · v_j over [lo, hi), p_j at {@code p[po + j]}, strictly in key order (so a sum can
     * continue over another part or chunk).
     */
    private static void accumulateWeightedValues(float[] p, int po, int lo, int hi, float[] values, int kvStride, int headOffset,
                                                 int headDim, float[] out, int oo) {
        int vectorDim = headDim - headDim % L;
        int j = lo;
        for (; j + 4 <= hi; j += 4) {
            FloatVector p0 = FloatVector.broadcast(F, p[po + j]), p1 = FloatVector.broadcast(F, p[po + j + 1]);
            FloatVector p2 = FloatVector.broadcast(F, p[po + j + 2]), p3 = FloatVector.broadcast(F, p[po + j + 3]);
            int r0 = j * kvStride + headOffset, r1 = r0 + kvStride, r2 = r1 + kvStride, r3 = r2 + kvStride;
            for (int d = 0; d < vectorDim; d += L) {
                FloatVector acc = FloatVector.fromArray(F, out, oo + d);
                acc = FloatVector.fromArray(F, values, r0 + d).fma(p0, acc);
                acc = FloatVector.fromArray(F, values, r1 + d).fma(p1, acc);
                acc = FloatVector.fromArray(F, values, r2 + d).fma(p2, acc);
                acc = FloatVector.fromArray(F, values, r3 + d).fma(p3, acc);
                acc.intoArray(out, oo + d);
            }
            for (int d = vectorDim; d < headDim; d++) {
                float acc = out[oo + d];
                for (int jj = 0; jj < 4; jj++) acc = Math.fma(values[r0 + jj * kvStride + d], p[po + j + jj], acc);
                out[oo + d] = acc;
            }
        }
        for (; j < hi; j++) {
            FloatVector pj = FloatVector.broadcast(F, p[po + j]);
            int row = j * kvStride + headOffset;
            for (int d = 0; d < vectorDim; d += L) {
                FloatVector.fromArray(F, values, row + d).fma(pj, FloatVector.fromArray(F, out, oo + d)).intoArray(out, oo + d);
            }
            for (int d = vectorDim; d < headDim; d++) out[oo + d] = Math.fma(values[row + d], p[po + j], out[oo + d]);
        }
    }

    /**
     * scores[j] = q · k_j for j in [lo, hi), four keys at a time so each loaded query vector serves four
     * rows of the cache; every key's sum is formed in the same order as {@link #dot}.
     */
    private static void scoresByDots(float[] q, int qo, float[] keys, int kvStride, int headOffset, int headDim, int lo, int hi,
                                     float[] scores, int so) {
        int vectorDim = F.loopBound(headDim);
        int j = lo;
        for (; j + 4 <= hi; j += 4) {
            int k0 = j * kvStride + headOffset, k1 = k0 + kvStride, k2 = k1 + kvStride, k3 = k2 + kvStride;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < vectorDim; d += L) {
                FloatVector qv = FloatVector.fromArray(F, q, qo + d);
                a0 = qv.fma(FloatVector.fromArray(F, keys, k0 + d), a0);
                a1 = qv.fma(FloatVector.fromArray(F, keys, k1 + d), a1);
                a2 = qv.fma(FloatVector.fromArray(F, keys, k2 + d), a2);
                a3 = qv.fma(FloatVector.fromArray(F, keys, k3 + d), a3);
            }
            float s0 = Ops.sumLanes(a0), s1 = Ops.sumLanes(a1), s2 = Ops.sumLanes(a2), s3 = Ops.sumLanes(a3);
            for (int d = vectorDim; d < headDim; d++) {
                s0 += q[qo + d] * keys[k0 + d];
                s1 += q[qo + d] * keys[k1 + d];
                s2 += q[qo + d] * keys[k2 + d];
                s3 += q[qo + d] * keys[k3 + d];
            }
            scores[so + j] = s0;
            scores[so + j + 1] = s1;
            scores[so + j + 2] = s2;
            scores[so + j + 3] = s3;
        }
        for (; j < hi; j++) scores[so + j] = dot(q, qo, keys, j * kvStride + headOffset, headDim);
    }

    /**
     * {@link #scoresByDots} over bfloat16 keys, widened as they are loaded: the same products summed in the same
     * order, so the scores are those of float32 keys holding the widened values. Its own loop, not a shared one
     * over a loading function: each kernel must compile with its loads inlined (see {@code FloatMatrix#matvecTask}).
     */
    private static void scoresByDotsBf16(float[] q, int qo, short[] keys, int kvStride, int headOffset, int headDim, int lo, int hi,
                                         float[] scores, int so) {
        int vectorDim = F.loopBound(headDim);
        int j = lo;
        for (; j + 4 <= hi; j += 4) {
            int k0 = j * kvStride + headOffset, k1 = k0 + kvStride, k2 = k1 + kvStride, k3 = k2 + kvStride;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < vectorDim; d += L) {
                FloatVector qv = FloatVector.fromArray(F, q, qo + d);
                a0 = qv.fma(HalfFloats.widenBf16(keys, k0 + d), a0);
                a1 = qv.fma(HalfFloats.widenBf16(keys, k1 + d), a1);
                a2 = qv.fma(HalfFloats.widenBf16(keys, k2 + d), a2);
                a3 = qv.fma(HalfFloats.widenBf16(keys, k3 + d), a3);
            }
            float s0 = Ops.sumLanes(a0), s1 = Ops.sumLanes(a1), s2 = Ops.sumLanes(a2), s3 = Ops.sumLanes(a3);
            for (int d = vectorDim; d < headDim; d++) {
                s0 += q[qo + d] * HalfFloats.bf16ToFloat(keys[k0 + d]);
                s1 += q[qo + d] * HalfFloats.bf16ToFloat(keys[k1 + d]);
                s2 += q[qo + d] * HalfFloats.bf16ToFloat(keys[k2 + d]);
                s3 += q[qo + d] * HalfFloats.bf16ToFloat(keys[k3 + d]);
            }
            scores[so + j] = s0;
            scores[so + j + 1] = s1;
            scores[so + j + 2] = s2;
            scores[so + j + 3] = s3;
        }
        for (; j < hi; j++) {
            int k0 = j * kvStride + headOffset;
            FloatVector acc = FloatVector.zero(F);
            for (int d = 0; d < vectorDim; d += L) acc = FloatVector.fromArray(F, q, qo + d).fma(HalfFloats.widenBf16(keys, k0 + d), acc);
            float sum = Ops.sumLanes(acc);
            for (int d = vectorDim; d < headDim; d++) sum += q[qo + d] * HalfFloats.bf16ToFloat(keys[k0 + d]);
            scores[so + j] = sum;
        }
    }

    /** {@link #accumulateWeightedValues} over bfloat16 values, widened as they are loaded (same sums, same order). */
    private static void accumulateWeightedValuesBf16(float[] p, int po, int lo, int hi, short[] values, int kvStride, int headOffset,
                                                     int headDim, float[] out, int oo) {
        int vectorDim = headDim - headDim % L;
        int j = lo;
        for (; j + 4 <= hi; j += 4) {
            FloatVector p0 = FloatVector.broadcast(F, p[po + j]), p1 = FloatVector.broadcast(F, p[po + j + 1]);
            FloatVector p2 = FloatVector.broadcast(F, p[po + j + 2]), p3 = FloatVector.broadcast(F, p[po + j + 3]);
            int r0 = j * kvStride + headOffset, r1 = r0 + kvStride, r2 = r1 + kvStride, r3 = r2 + kvStride;
            for (int d = 0; d < vectorDim; d += L) {
                FloatVector acc = FloatVector.fromArray(F, out, oo + d);
                acc = HalfFloats.widenBf16(values, r0 + d).fma(p0, acc);
                acc = HalfFloats.widenBf16(values, r1 + d).fma(p1, acc);
                acc = HalfFloats.widenBf16(values, r2 + d).fma(p2, acc);
                acc = HalfFloats.widenBf16(values, r3 + d).fma(p3, acc);
                acc.intoArray(out, oo + d);
            }
            for (int d = vectorDim; d < headDim; d++) {
                float acc = out[oo + d];
                for (int jj = 0; jj < 4; jj++) acc = Math.fma(HalfFloats.bf16ToFloat(values[r0 + jj * kvStride + d]), p[po + j + jj], acc);
                out[oo + d] = acc;
            }
        }
        for (; j < hi; j++) {
            FloatVector pj = FloatVector.broadcast(F, p[po + j]);
            int row = j * kvStride + headOffset;
            for (int d = 0; d < vectorDim; d += L) {
                HalfFloats.widenBf16(values, row + d).fma(pj, FloatVector.fromArray(F, out, oo + d)).intoArray(out, oo + d);
            }
            for (int d = vectorDim; d < headDim; d++) out[oo + d] = Math.fma(HalfFloats.bf16ToFloat(values[row + d]), p[po + j], out[oo + d]);
        }
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int upper = F.loopBound(n); i < upper; i += L) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        float s = Ops.sumLanes(acc);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }
}
