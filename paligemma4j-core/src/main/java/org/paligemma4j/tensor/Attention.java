package org.paligemma4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scaled dot-product attention with grouped key/value heads, an optional logit soft cap and a
 * contiguous-range mask, in the reference's order of operations: scores {@code (q·k)·scale}, then
 * {@code softCap}, then mask, then float32 softmax, then the weighted sum of values.
 */
public final class Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

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
        int groups = heads / kvHeads;
        int qStride = heads * headDim, kvStride = kvHeads * headDim;
        Parallel.forEach(heads, h -> {
            int kvh = h / groups;
            float[] scores = new float[mask.endVisibleKeys(firstPosition + queries - 1) + 1];
            for (int i = 0; i < queries; i++) {
                int pos = firstPosition + i;
                int lo = mask.firstVisibleKey(pos), hi = mask.endVisibleKeys(pos);
                if (scores.length < hi) scores = new float[hi];
                int qo = i * qStride + h * headDim;
                for (int j = lo; j < hi; j++) {
                    float s = dot(q, qo, keys, j * kvStride + kvh * headDim, headDim) * scale;
                    scores[j] = softCap > 0 ? Ops.softCap(s, softCap) : s;
                }
                Ops.softmax(scores, lo, hi);
                int oo = i * qStride + h * headDim;
                java.util.Arrays.fill(out, oo, oo + headDim, 0f);
                for (int j = lo; j < hi; j++) {
                    axpy(scores[j], values, j * kvStride + kvh * headDim, out, oo, headDim);
                }
            }
        });
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int upper = F.loopBound(n); i < upper; i += F.length()) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** {@code y[yo..] += a · x[xo..]} over n elements. */
    static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(F, a);
        for (int upper = F.loopBound(n); i < upper; i += F.length()) {
            va.fma(FloatVector.fromArray(F, x, xo + i), FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }
}
