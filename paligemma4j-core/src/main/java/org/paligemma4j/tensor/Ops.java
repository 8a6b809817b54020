package org.paligemma4j.tensor;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise and per-token operations of the forward pass, on float32 values like the reference's,
 * with sums accumulated in double (cheap next to the matmuls, and it keeps us closer to the exact value than
 * float32 summation in any order would). The norms compute in double throughout and round their outputs
 * once.
 */
public final class Ops {
    private Ops() {}

    /** Below these sizes a per-token or element-wise pass is not worth handing to another thread. */
    private static final int TOKENS_PER_TASK = 16, ELEMENTS_PER_TASK = 1 << 15;

    /**
     * RMSNorm(1+w), Gemma's normalisation: {@code x / sqrt(mean(x²) + eps) · (1 + w)} per token. Gemma
     * stores w as an offset from 1, so a zero weight is the identity scale.
     */
    public static void rmsNorm(float[] x, float[] out, int tokens, int dim, float[] weight, float eps) {
        Parallel.forRange(tokens, TOKENS_PER_TASK, (from, to) -> rmsNorm(x, out, from, to, dim, weight, eps));
    }

    private static void rmsNorm(float[] x, float[] out, int from, int to, int dim, float[] weight, float eps) {
        for (int t = from; t < to; t++) {
            int o = t * dim;
            double inv = 1.0 / Math.sqrt(sumOfSquares(x, o, dim, 0) / dim + eps);
            for (int i = 0; i < dim; i++) out[o + i] = (float) (x[o + i] * inv * (1.0 + weight[i]));
        }
    }

    /** LayerNorm as SigLIP uses it: {@code (x − mean) / sqrt(var + eps) · w + b}, biased variance. */
    public static void layerNorm(float[] x, float[] out, int tokens, int dim, float[] weight, float[] bias, float eps) {
        Parallel.forRange(tokens, TOKENS_PER_TASK, (from, to) -> layerNorm(x, out, from, to, dim, weight, bias, eps));
    }

    private static void layerNorm(float[] x, float[] out, int from, int to, int dim, float[] weight, float[] bias, float eps) {
        for (int t = from; t < to; t++) {
            int o = t * dim;
            double mean = sum(x, o, dim) / dim;
            double inv = 1.0 / Math.sqrt(sumOfSquares(x, o, dim, mean) / dim + eps);
            for (int i = 0; i < dim; i++) out[o + i] = (float) ((x[o + i] - mean) * inv * weight[i] + bias[i]);
        }
    }

    /** Doubles of the float vectors' size: a float vector widens into two of them. */
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, FloatVector.SPECIES_PREFERRED.vectorShape());

    /**
     * Σ x[o, o + n) in double precision, in one fixed order whatever the JIT tier (a sequential double sum
     * was bound by the add latency: SigLIP's LayerNorms took 17 ms of an image).
     */
    static double sum(float[] x, int o, int n) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0;
        int i = 0;
        for (; i + F.length() <= n; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, o + i);
            a0 = a0.add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0));
            a1 = a1.add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1));
        }
        double s = sumInOrder(a0.add(a1).toArray());
        for (; i < n; i++) s += x[o + i];
        return s;
    }

    /** Σ (x[i] − center)² over [o, o + n) in double precision, in one fixed order (see {@link #sum}). */
    static double sumOfSquares(float[] x, int o, int n, double center) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0;
        int i = 0;
        for (; i + F.length() <= n; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, o + i);
            DoubleVector d0 = ((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0)).sub(center);
            DoubleVector d1 = ((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1)).sub(center);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
        }
        double s = sumInOrder(a0.add(a1).toArray());
        for (; i < n; i++) {
            double d = x[o + i] - center;
            s += d * d;
        }
        return s;
    }

    private static double sumInOrder(double[] lanes) {
        double s = 0;
        for (double lane : lanes) s += lane;
        return s;
    }

    /** GELU with the tanh approximation ({@code gelu_pytorch_tanh}), used by both SigLIP and Gemma. */
    public static float geluTanh(float x) {
        double inner = 0.7978845608028654 * (x + 0.044715 * x * (double) x * x);
        return (float) (0.5 * x * (1.0 + Math.tanh(inner)));
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;

    /**
     * {@link #geluTanh(float)} on all lanes (SigLIP's MLP, Gemma's GeGLU), as {@code x / (1 + e^{−2u})}, which
     * equals {@code 0.5·x·(1 + tanh(u))}: one exp and one division instead of tanh's series, exp, division
     * and blend (GELU over SigLIP's MLP activations 1.5 → 0.9 ms per layer and thread).
     */
    static FloatVector geluTanh(FloatVector x) {
        FloatVector minusTwoU = x.mul(x).mul(x).mul(0.044715f).add(x).mul(-2 * SQRT_2_OVER_PI);
        return x.div(VectorMath.exp(minusTwoU).add(1f));
    }

    /** GeGLU: {@code gate[i] = geluTanh(gate[i]) · up[i]}. */
    public static void geglu(float[] gate, float[] up, int n) {
        geglu(gate, 0, up, 0, n);
    }

    /** GeGLU on {@code n} elements from {@code gate[gateOffset]} and {@code up[upOffset]}. */
    public static void geglu(float[] gate, int gateOffset, float[] up, int upOffset, int n) {
        Parallel.forRange(n, ELEMENTS_PER_TASK, (start, end) -> {
            int from = gateOffset + start, to = gateOffset + end, shift = upOffset - gateOffset;
            int i = from;
            for (int upper = from + F.loopBound(to - from); i < upper; i += F.length()) {
                geluTanh(FloatVector.fromArray(F, gate, i)).mul(FloatVector.fromArray(F, up, i + shift)).intoArray(gate, i);
            }
            for (; i < to; i++) gate[i] = geluTanh(gate[i]) * up[i + shift];
        });
    }

    /** Logit soft-capping (Gemma 2): {@code cap · tanh(x / cap)} squashes logits smoothly into (−cap, cap). */
    public static float softCap(float x, float cap) {
        return (float) Math.tanh(x / cap) * cap;
    }

    /**
     * The sum of all lanes in one fixed pairwise order (lane i with lane i + n/2, then the halves of that,
     * …). {@code reduceLanes(ADD)} leaves the order to the implementation, and compiled and interpreted
     * code differ in it: the same product could change in the last bit as the JIT warmed up. The 16-lane
     * folds are constants: read from an array, the shuffles were not, and where the JIT did not inline
     * this method into its caller every fold allocated (the q8 LM head's decode allocated gigabytes).
     */
    static float sumLanes(FloatVector v) {
        if (F.length() == 16) {
            v = v.add(v.rearrange(FOLD_8));
            v = v.add(v.rearrange(FOLD_4));
            v = v.add(v.rearrange(FOLD_2));
            v = v.add(v.rearrange(FOLD_1));
            return v.lane(0);
        }
        for (VectorShuffle<Float> fold : FOLDS) v = v.add(v.rearrange(fold));
        return v.lane(0);
    }

    private static final VectorShuffle<Float> FOLD_8 = fold(8), FOLD_4 = fold(4), FOLD_2 = fold(2), FOLD_1 = fold(1);

    /** For each fold, lane i takes lane i + half: halves of the vector, then of the low half, and so on. */
    private static final VectorShuffle<Float>[] FOLDS = folds();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] folds() {
        int steps = Integer.numberOfTrailingZeros(F.length());
        VectorShuffle<Float>[] folds = new VectorShuffle[steps];
        for (int i = 0, half = F.length() / 2; i < steps; i++, half /= 2) folds[i] = fold(half);
        return folds;
    }

    private static VectorShuffle<Float> fold(int half) {
        return VectorShuffle.fromOp(F, lane -> (lane + half) % F.length());
    }

    /** {@link #softCap(float, float)} on all lanes. */
    static FloatVector softCap(FloatVector x, float cap) {
        return VectorMath.tanh(x.div(cap)).mul(cap);
    }

    /** In place over {@code x[from, to)}: the final logits of Gemma 2, a quarter million per token. */
    public static void softCap(float[] x, int from, int to, float cap) {
        int i = from;
        for (int upper = from + F.loopBound(to - from); i < upper; i += F.length()) {
            softCap(FloatVector.fromArray(F, x, i), cap).intoArray(x, i);
        }
        for (; i < to; i++) x[i] = softCap(x[i], cap);
    }

    /** In-place softmax over {@code x[from, to)}, max-subtracted. */
    public static void softmax(float[] x, int from, int to) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) max = Math.max(max, x[i]);
        double sum = 0;
        for (int i = from; i < to; i++) {
            float e = (float) Math.exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = from; i < to; i++) x[i] *= inv;
    }

    /** {@code a[i] += b[i]} for the first n elements (residual connections). */
    public static void add(float[] a, float[] b, int n) {
        for (int i = 0; i < n; i++) a[i] += b[i];
    }

    public static void scale(float[] a, int n, float s) {
        for (int i = 0; i < n; i++) a[i] *= s;
    }

    /** Index of the largest of {@code x[from, to)}; the first one on ties, as torch.argmax. */
    public static int argmax(float[] x, int from, int to) {
        int best = from;
        for (int i = from + 1; i < to; i++) if (x[i] > x[best]) best = i;
        return best - from;
    }
}
