package org.paligemma4j.tensor;

/**
 * Plain-loop twins of {@link Backward}'s kernels, written the most obvious way (one output element at a
 * time, the softmax's Jacobian built explicitly): the oracles its tests compare against.
 */
public final class ScalarBackward {
    private ScalarBackward() {}

    /** {@code dX[t][c] += Σ_r dY[t][r]·W[r][c]}. */
    public static void matmulInputGrad(FloatMatrix w, float[] dY, int tokens, float[] dX) {
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < w.cols(); c++) {
                double s = 0;
                for (int r = 0; r < w.rows(); r++) s += (double) dY[t * w.rows() + r] * w.get(r, c);
                dX[t * w.cols() + c] += (float) s;
            }
        }
    }

    /** {@code dW[r][c] += Σ_t dY[t][r]·x[t][c]}. */
    public static void matmulWeightGrad(float[] dY, float[] x, int tokens, int rows, int cols, float[] dW) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double s = 0;
                for (int t = 0; t < tokens; t++) s += (double) dY[t * rows + r] * x[t * cols + c];
                dW[r * cols + c] += (float) s;
            }
        }
    }

    /** Softmax backward through its explicit Jacobian: {@code ds_k = Σ_j dp_j · p_j(δ_jk − p_k)}. */
    public static void softmaxBackward(double[] p, double[] dp, int from, int to, double[] ds) {
        for (int k = from; k < to; k++) {
            double s = 0;
            for (int j = from; j < to; j++) s += dp[j] * p[j] * ((j == k ? 1 : 0) - p[k]);
            ds[k] = s;
        }
    }

    /**
     * Attention's backward one query and head at a time through the softmax's Jacobian
     * {@code ∂p_j/∂s_k = p_j(δ_jk − p_k)}, the chain rule written out term by term.
     */
    public static void attentionBackward(float[] q, float[] keys, float[] values, float[] dOut, int tokens,
                                         int heads, int kvHeads, int headDim, float scale, float softCap,
                                         AttentionMask mask, float[] dQ, float[] dK, float[] dV) {
        int groups = heads / kvHeads;
        for (int h = 0; h < heads; h++) {
            int kvh = h / groups;
            for (int i = 0; i < tokens; i++) {
                int lo = mask.firstVisibleKey(i), hi = mask.endVisibleKeys(i);
                double[] raw = new double[hi], s = new double[hi], p = new double[hi], dp = new double[hi];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = lo; j < hi; j++) {
                    for (int d = 0; d < headDim; d++) {
                        raw[j] += (double) q[(i * heads + h) * headDim + d] * keys[(j * kvHeads + kvh) * headDim + d];
                    }
                    raw[j] *= scale;
                    s[j] = softCap > 0 ? softCap * Math.tanh(raw[j] / softCap) : raw[j];
                    max = Math.max(max, s[j]);
                }
                double total = 0;
                for (int j = lo; j < hi; j++) total += Math.exp(s[j] - max);
                for (int j = lo; j < hi; j++) p[j] = Math.exp(s[j] - max) / total;
                for (int j = lo; j < hi; j++) {
                    for (int d = 0; d < headDim; d++) {
                        double g = dOut[(i * heads + h) * headDim + d];
                        dp[j] += g * values[(j * kvHeads + kvh) * headDim + d];
                        dV[(j * kvHeads + kvh) * headDim + d] += (float) (p[j] * g);
                    }
                }
                for (int k = lo; k < hi; k++) {
                    double ds = 0;
                    for (int j = lo; j < hi; j++) ds += dp[j] * p[j] * ((j == k ? 1 : 0) - p[k]);
                    double dRaw = ds * (softCap > 0 ? 1 - Math.pow(Math.tanh(raw[k] / softCap), 2) : 1);
                    for (int d = 0; d < headDim; d++) {
                        dQ[(i * heads + h) * headDim + d] += (float) (dRaw * scale * keys[(k * kvHeads + kvh) * headDim + d]);
                        dK[(k * kvHeads + kvh) * headDim + d] += (float) (dRaw * scale * q[(i * heads + h) * headDim + d]);
                    }
                }
            }
        }
    }
}
