package org.paligemma4j.tensor;

/**
 * Plain-loop twins of the vector kernels: the oracles the kernel tests compare against and the baselines
 * the benchmarks report speed-ups over. Written for obviousness, not speed.
 */
public final class ScalarKernels {
    private ScalarKernels() {}

    /** {@code y[t][r] = Σ_c W[r][c]·x[t][c]}, summed in double. */
    public static void matmul(FloatMatrix w, float[] x, int tokens, float[] y) {
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < w.rows(); r++) {
                double s = 0;
                for (int c = 0; c < w.cols(); c++) s += (double) w.get(r, c) * x[t * w.cols() + c];
                y[t * w.rows() + r] = (float) s;
            }
        }
    }

    /** Attention one score at a time, with the same argument conventions as {@link Attention#attend}. */
    public static void attend(float[] q, int queries, int firstPosition, float[] keys, float[] values,
                              int heads, int kvHeads, int headDim, float scale, float softCap,
                              AttentionMask mask, float[] out) {
        int groups = heads / kvHeads;
        for (int h = 0; h < heads; h++) {
            int kvh = h / groups;
            for (int i = 0; i < queries; i++) {
                int pos = firstPosition + i, lo = mask.firstVisibleKey(pos), hi = mask.endVisibleKeys(pos);
                double[] p = new double[hi];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = lo; j < hi; j++) {
                    double s = 0;
                    for (int d = 0; d < headDim; d++) {
                        s += (double) q[(i * heads + h) * headDim + d] * keys[(j * kvHeads + kvh) * headDim + d];
                    }
                    s *= scale;
                    if (softCap > 0) s = Math.tanh(s / softCap) * softCap;
                    p[j] = s;
                    max = Math.max(max, s);
                }
                double total = 0;
                for (int j = lo; j < hi; j++) total += p[j] = Math.exp(p[j] - max);
                for (int d = 0; d < headDim; d++) {
                    double o = 0;
                    for (int j = lo; j < hi; j++) o += p[j] / total * values[(j * kvHeads + kvh) * headDim + d];
                    out[(i * heads + h) * headDim + d] = (float) o;
                }
            }
        }
    }
}
