package org.paligemma4j.tensor;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The backward passes of the forward kernels in {@link Ops}, {@link FloatMatrix} and {@link Attention}:
 * given what the forward read and the gradient of what it wrote, the gradient of what it read.
 *
 * <p>Conventions, as in llm.c: parameter gradients (weights, biases) are always accumulated
 * ({@code +=}), because a tensor can be used more than once (the tied embedding) and gradients of
 * several examples add up; input gradients are accumulated too unless a method says it writes them.
 * Arrays are float32. Sums over tokens and keys (weight gradients, norms, attention) are formed in
 * double: a gradient is a sum of terms of both signs, and float32 accumulation there would cost the last
 * digits the fine-tuning parity tests check. The input gradient of a linear layer, as large a product
 * as the forward pass, runs on the forward's float32 GEMM.
 */
public final class Backward {
    private Backward() {}

    /**
     * Backward of {@code y = x·Wᵀ} (a linear layer, {@link FloatMatrix#matmul}) for the input:
     * {@code dX[t][c] += Σ_r dY[t][r]·W[r][c]}, x {@code [tokens, cols]}, dY {@code [tokens, rows]}.
     *
     * <p>This is the forward product with W transposed, and as much work as the forward pass itself, so it runs on
     * the forward's GEMM, over all threads, with W read in place as its transpose ({@link TransposedMatrix}) and the
     * sums added straight into dX. Sums are float32 like the forward's.
     */
    public static void matmulInputGrad(FloatMatrix w, float[] dY, int tokens, float[] dX) {
        if (dX.length < (long) tokens * w.cols() || dY.length < (long) tokens * w.rows()) {
            throw new IllegalArgumentException(w.name() + ": input gradient of [" + tokens + ", " + w.cols() + "] from dY of "
                    + dY.length + " floats into " + dX.length);
        }
        if (tokens < PackedGemm.MIN_TOKENS) {
            inputGradFewTokens(w, dY, tokens, dX);
            return;
        }
        FloatMatrix.matmulAll(dY, tokens, new Product(new TransposedMatrix(w), dX, null, Epilogue.ADD));
    }

    /** Columns of dX per task of {@link #inputGradFewTokens}: a few tokens' slices of them stay in the first-level cache. */
    private static final int FEW_TOKENS_COLUMN_BLOCK = 1024;

    /**
     * {@link #matmulInputGrad} for fewer tokens than the packed GEMM takes (a few answer tokens through the LM head):
     * W's rows scaled by each token's dY and added into dX, so W is read once, row by row in its stored order. The
     * columns are split across the threads; each output is summed over r in order.
     */
    private static void inputGradFewTokens(FloatMatrix w, float[] dY, int tokens, float[] dX) {
        int rows = w.rows(), cols = w.cols(), lanes = FloatMatrix.LANES;
        // At most FEW_TOKENS_COLUMN_BLOCK columns per task, and at least one task per thread where the columns allow.
        int block = Math.min(FEW_TOKENS_COLUMN_BLOCK, Math.max(lanes, (cols / Parallel.threads() + lanes - 1) / lanes * lanes));
        int blocks = (cols + block - 1) / block;
        Parallel.forRange(blocks, 1, (b0, b1) -> {
            int c0 = b0 * block, c1 = Math.min(cols, b1 * block);
            int vectorEnd = c0 + (c1 - c0) / lanes * lanes;
            for (int r = 0; r < rows; r++) {
                for (int t = 0; t < tokens; t++) {
                    float g = dY[t * rows + r];
                    FloatVector gs = FloatVector.broadcast(FloatMatrix.F, g);
                    int o = t * cols;
                    for (int c = c0; c < vectorEnd; c += lanes) {
                        w.load(r, c).fma(gs, FloatVector.fromArray(FloatMatrix.F, dX, o + c)).intoArray(dX, o + c);
                    }
                    for (int c = vectorEnd; c < c1; c++) dX[o + c] += g * w.get(r, c);
                }
            }
        });
    }

    /**
     * Backward of {@code y = x·Wᵀ} for the weight: {@code dW[r][c] += Σ_t dY[t][r]·x[t][c]}, dW
     * {@code [rows, cols]} like W.
     */
    public static void matmulWeightGrad(float[] dY, float[] x, int tokens, int rows, int cols, float[] dW) {
        Parallel.forRange(rows, Math.max(1, (1 << 16) / Math.max(1, tokens * cols)),
                (from, to) -> matmulWeightGrad(dY, x, tokens, rows, cols, dW, from, to));
    }

    /** Doubles per vector of the weight gradient's and attention's sums. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats that widen to one vector of {@link #D}. */
    private static final VectorSpecies<Float> F_HALF = VectorSpecies.of(float.class, VectorShape.forBitSize(D.length() * Float.SIZE));
    /** Query rows whose probabilities {@link #attentionBackward} holds at a time (per head, with their gradients). */
    private static final int ATTENTION_ROW_BLOCK = 256;
    /** Rows of dW that share each widened chunk of x in {@link #matmulWeightGrad}. */
    private static final int ROW_BLOCK = 4;

    /** Widens {@code F_HALF.length()} floats of {@code a} from {@code offset} into one double vector. */
    private static DoubleVector widen(float[] a, int offset) {
        return (DoubleVector) FloatVector.fromArray(F_HALF, a, offset).convertShape(VectorOperators.F2D, D, 0);
    }

    /** Columns [c, c + 4·lanes) of rows [r0, r0 + 4) of the weight gradient's sums into {@code acc [4, cols]}. */
    private static void weightGradBlock4x4(float[] dY, float[] x, int tokens, int rows, int cols, int r0, int c, double[] acc) {
        int lanes = D.length();
        DoubleVector a00 = DoubleVector.zero(D), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        DoubleVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int t = 0; t < tokens; t++) {
            int o = t * cols + c, d = t * rows + r0;
            DoubleVector x0 = widen(x, o), x1 = widen(x, o + lanes), x2 = widen(x, o + 2 * lanes), x3 = widen(x, o + 3 * lanes);
            DoubleVector d0 = DoubleVector.broadcast(D, dY[d]);
            a00 = x0.fma(d0, a00);
            a01 = x1.fma(d0, a01);
            a02 = x2.fma(d0, a02);
            a03 = x3.fma(d0, a03);
            DoubleVector d1 = DoubleVector.broadcast(D, dY[d + 1]);
            a10 = x0.fma(d1, a10);
            a11 = x1.fma(d1, a11);
            a12 = x2.fma(d1, a12);
            a13 = x3.fma(d1, a13);
            DoubleVector d2 = DoubleVector.broadcast(D, dY[d + 2]);
            a20 = x0.fma(d2, a20);
            a21 = x1.fma(d2, a21);
            a22 = x2.fma(d2, a22);
            a23 = x3.fma(d2, a23);
            DoubleVector d3 = DoubleVector.broadcast(D, dY[d + 3]);
            a30 = x0.fma(d3, a30);
            a31 = x1.fma(d3, a31);
            a32 = x2.fma(d3, a32);
            a33 = x3.fma(d3, a33);
        }
        a00.intoArray(acc, c);
        a01.intoArray(acc, c + lanes);
        a02.intoArray(acc, c + 2 * lanes);
        a03.intoArray(acc, c + 3 * lanes);
        a10.intoArray(acc, cols + c);
        a11.intoArray(acc, cols + c + lanes);
        a12.intoArray(acc, cols + c + 2 * lanes);
        a13.intoArray(acc, cols + c + 3 * lanes);
        a20.intoArray(acc, 2 * cols + c);
        a21.intoArray(acc, 2 * cols + c + lanes);
        a22.intoArray(acc, 2 * cols + c + 2 * lanes);
        a23.intoArray(acc, 2 * cols + c + 3 * lanes);
        a30.intoArray(acc, 3 * cols + c);
        a31.intoArray(acc, 3 * cols + c + lanes);
        a32.intoArray(acc, 3 * cols + c + 2 * lanes);
        a33.intoArray(acc, 3 * cols + c + 3 * lanes);
    }

    /**
     * Rows [from, to) of the weight gradient. Blocks of {@link #ROW_BLOCK} rows and four vectors of columns
     * (two where vectors are short and registers few) keep their sums in registers over all tokens, each
     * widened chunk of x serving every row of the block. Every element's sum is formed over t in order,
     * with fused multiply-adds; the columns no whole block covers are summed one at a time.
     */
    private static void matmulWeightGrad(float[] dY, float[] x, int tokens, int rows, int cols, float[] dW, int from, int to) {
        int lanes = D.length(), vectors = lanes >= 8 ? 4 : 2, vectorEnd = cols - cols % (vectors * lanes);
        double[] acc = new double[ROW_BLOCK * cols];
        for (int r0 = from; r0 < to; r0 += ROW_BLOCK) {
            int block = Math.min(ROW_BLOCK, to - r0);
            if (block == ROW_BLOCK && vectors == 4) {
                for (int c = 0; c < vectorEnd; c += 4 * lanes) weightGradBlock4x4(dY, x, tokens, rows, cols, r0, c, acc);
            } else if (block == ROW_BLOCK) {
                for (int c = 0; c < vectorEnd; c += 2 * lanes) {
                    DoubleVector a00 = DoubleVector.zero(D), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                    for (int t = 0; t < tokens; t++) {
                        int o = t * cols + c, d = t * rows + r0;
                        DoubleVector x0 = widen(x, o), x1 = widen(x, o + lanes);
                        DoubleVector d0 = DoubleVector.broadcast(D, dY[d]), d1 = DoubleVector.broadcast(D, dY[d + 1]);
                        DoubleVector d2 = DoubleVector.broadcast(D, dY[d + 2]), d3 = DoubleVector.broadcast(D, dY[d + 3]);
                        a00 = x0.fma(d0, a00);
                        a01 = x1.fma(d0, a01);
                        a10 = x0.fma(d1, a10);
                        a11 = x1.fma(d1, a11);
                        a20 = x0.fma(d2, a20);
                        a21 = x1.fma(d2, a21);
                        a30 = x0.fma(d3, a30);
                        a31 = x1.fma(d3, a31);
                    }
                    a00.intoArray(acc, c);
                    a01.intoArray(acc, c + lanes);
                    a10.intoArray(acc, cols + c);
                    a11.intoArray(acc, cols + c + lanes);
                    a20.intoArray(acc, 2 * cols + c);
                    a21.intoArray(acc, 2 * cols + c + lanes);
                    a30.intoArray(acc, 3 * cols + c);
                    a31.intoArray(acc, 3 * cols + c + lanes);
                }
            }
            int scalarFrom = block == ROW_BLOCK ? vectorEnd : 0;
            if (scalarFrom < cols) {
                for (int b = 0; b < block; b++) java.util.Arrays.fill(acc, b * cols + scalarFrom, (b + 1) * cols, 0);
                for (int t = 0; t < tokens; t++) {
                    int o = t * cols;
                    for (int b = 0; b < block; b++) {
                        double d = dY[t * rows + r0 + b];
                        int a = b * cols;
                        for (int c = scalarFrom; c < cols; c++) acc[a + c] = Math.fma(d, x[o + c], acc[a + c]);
                    }
                }
            }
            for (int b = 0; b < block; b++) {
                int w = (r0 + b) * cols, a = b * cols;
                for (int c = 0; c < cols; c++) dW[w + c] += (float) acc[a + c];
            }
        }
    }

    /** Backward of a bias added to every token: {@code dB[i] += Σ_t dY[t][i]}. */
    public static void biasGrad(float[] dY, int tokens, int dim, float[] dB) {
        for (int i = 0; i < dim; i++) {
            double s = 0;
            for (int t = 0; t < tokens; t++) s += dY[t * dim + i];
            dB[i] += (float) s;
        }
    }

    /**
     * Backward of {@link Ops#rmsNorm}: with {@code r = 1/sqrt(mean(x²) + eps)} and {@code y = x·r·(1 + w)},
     * {@code dw += Σ_t dy·x·r} and {@code dx += r·(1 + w)·dy − x·r³/dim · Σ_j dy_j (1 + w_j) x_j}.
     * dX accumulates; dWeight (may be null when the weight is frozen) accumulates.
     */
    public static void rmsNormBackward(float[] x, float[] dY, int tokens, int dim, float[] weight, float eps,
                                       float[] dX, float[] dWeight) {
        double[] dw = dWeight == null ? null : new double[dim];
        for (int t = 0; t < tokens; t++) {
            int o = t * dim;
            double sumSq = 0;
            for (int i = 0; i < dim; i++) sumSq += (double) x[o + i] * x[o + i];
            double r = 1.0 / Math.sqrt(sumSq / dim + eps);
            double dot = 0;
            for (int i = 0; i < dim; i++) dot += dY[o + i] * (1.0 + weight[i]) * x[o + i];
            double k = r * r * r * dot / dim;
            for (int i = 0; i < dim; i++) {
                dX[o + i] += (float) (r * (1.0 + weight[i]) * dY[o + i] - x[o + i] * k);
                if (dw != null) dw[i] += (double) dY[o + i] * x[o + i] * r;
            }
        }
        if (dw != null) for (int i = 0; i < dim; i++) dWeight[i] += (float) dw[i];
    }

    /**
     * Backward of {@link Ops#layerNorm}: with {@code x̂ = (x − mean)·r}, {@code y = x̂·w + b},
     * {@code dw += Σ_t dy·x̂}, {@code db += Σ_t dy} and {@code dx += r·(g − mean(g) − x̂·mean(g·x̂))} for
     * {@code g = dy·w}. dX accumulates; dWeight and dBias (null when frozen) accumulate.
     */
    public static void layerNormBackward(float[] x, float[] dY, int tokens, int dim, float[] weight, float eps,
                                         float[] dX, float[] dWeight, float[] dBias) {
        double[] dw = new double[dim], db = new double[dim];
        double[] xHat = new double[dim];
        for (int t = 0; t < tokens; t++) {
            int o = t * dim;
            double mean = 0;
            for (int i = 0; i < dim; i++) mean += x[o + i];
            mean /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) var += (x[o + i] - mean) * (x[o + i] - mean);
            double r = 1.0 / Math.sqrt(var / dim + eps);
            double meanG = 0, meanGx = 0;
            for (int i = 0; i < dim; i++) {
                xHat[i] = (x[o + i] - mean) * r;
                double g = (double) dY[o + i] * weight[i];
                meanG += g;
                meanGx += g * xHat[i];
                dw[i] += dY[o + i] * xHat[i];
                db[i] += dY[o + i];
            }
            meanG /= dim;
            meanGx /= dim;
            for (int i = 0; i < dim; i++) {
                double g = (double) dY[o + i] * weight[i];
                dX[o + i] += (float) (r * (g - meanG - xHat[i] * meanGx));
            }
        }
        if (dWeight != null) for (int i = 0; i < dim; i++) dWeight[i] += (float) dw[i];
        if (dBias != null) for (int i = 0; i < dim; i++) dBias[i] += (float) db[i];
    }

    /**
     * The derivative of {@link Ops#geluTanh(float)}: with {@code u = √(2/π)(x + 0.044715x³)},
     * {@code d/dx ½x(1 + tanh u) = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)}.
     */
    public static double geluTanhDerivative(double x) {
        double c = 0.7978845608028654;
        double tanh = Math.tanh(c * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + tanh) + 0.5 * x * (1 - tanh * tanh) * c * (1 + 3 * 0.044715 * x * x);
    }

    /** Backward of {@code y = geluTanh(x)} element-wise: writes {@code dX[i] = dY[i]·gelu'(x[i])}. */
    public static void geluTanhBackward(float[] x, float[] dY, int n, float[] dX) {
        for (int i = 0; i < n; i++) dX[i] = (float) (dY[i] * geluTanhDerivative(x[i]));
    }

    /**
     * Backward of {@link Ops#geglu} ({@code y = geluTanh(gate)·up}): writes
     * {@code dGate = dY·up·gelu'(gate)} and {@code dUp = dY·geluTanh(gate)}.
     */
    public static void gegluBackward(float[] gate, float[] up, float[] dY, int n, float[] dGate, float[] dUp) {
        for (int i = 0; i < n; i++) {
            double g = gate[i];
            dGate[i] = (float) ((double) dY[i] * up[i] * geluTanhDerivative(g));
            dUp[i] = (float) (dY[i] * (double) Ops.geluTanh(gate[i]));
        }
    }

    /**
     * Backward of {@link Ops#softCap} in place over {@code d[from, to)}, given the values {@code x} before
     * capping: {@code d/dx cap·tanh(x/cap) = 1 − tanh²(x/cap)}.
     */
    public static void softCapBackward(float[] x, float[] d, int from, int to, float cap) {
        for (int i = from; i < to; i++) {
            double t = Math.tanh(x[i] / (double) cap);
            d[i] = (float) (d[i] * (1 - t * t));
        }
    }

    /**
     * Cross-entropy of one row of logits against {@code target}: returns {@code logsumexp(z) − z[target]}
     * and writes its gradient times {@code weight}, {@code weight·(softmax(z) − onehot(target))}, into
     * {@code dLogits[dOffset…]}. The log-softmax runs over the whole row.
     */
    public static double crossEntropy(float[] logits, int offset, int n, int target, double weight,
                                      float[] dLogits, int dOffset) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < n; v++) max = Math.max(max, logits[offset + v]);
        double sum = 0;
        for (int v = 0; v < n; v++) sum += Math.exp(logits[offset + v] - max);
        double logSum = max + Math.log(sum);
        for (int v = 0; v < n; v++) {
            double p = Math.exp(logits[offset + v] - logSum);
            dLogits[dOffset + v] = (float) (weight * (p - (v == target ? 1 : 0)));
        }
        return logSum - logits[offset + target];
    }

    /**
     * Backward of a softmax {@code p = softmax(s)} over {@code [from, to)}: {@code ds_j = p_j (dp_j − Σ_k p_k dp_k)},
     * the Jacobian {@code ∂p_j/∂s_k = p_j(δ_jk − p_k)} applied to dp without forming it. {@code weighted} is
     * {@code Σ_k p_k dp_k}, which callers usually have at hand; ds may be dp itself.
     */
    public static void softmaxBackward(double[] p, double[] dp, int from, int to, double weighted, double[] ds) {
        for (int j = from; j < to; j++) ds[j] = p[j] * (dp[j] - weighted);
    }

    /**
     * Backward of {@link Attention#attend} over one sequence ({@code firstPosition} 0: queries and keys are
     * the same tokens), with the same argument conventions. The probabilities are recomputed here from q
     * and k in double (activation recomputation: nothing of the forward's softmax is kept):
     *
     * <pre>
     *   s = cap·tanh((q·k)·scale / cap)       p = softmax(s) over the visible keys       out = Σ_j p_j v_j
     *   dv_j += p_j·dout      dp_j = dout·v_j      ds_j = p_j (dp_j − Σ_k p_k dp_k)
     *   ds_j *= 1 − (s_j / cap)²   (soft cap)      dq += scale Σ_j ds_j k_j      dk_j += scale·ds_j·q
     * </pre>
     *
     * dQ, dK, dV accumulate ({@code [tokens, heads·headDim]} and {@code [tokens, kvHeads·headDim]}).
     */
    public static void attentionBackward(float[] q, float[] keys, float[] values, float[] dOut, int tokens,
                                         int heads, int kvHeads, int headDim, float scale, float softCap,
                                         AttentionMask mask, float[] dQ, float[] dK, float[] dV) {
        int groups = heads / kvHeads;
        // One task per query head (PaliGemma 1 has a single key/value head): each sums its share of dK and
        // dV privately, and the shares are added in head order afterwards, so the result does not depend on
        // the thread count.
        double[][] dKShare = new double[heads][], dVShare = new double[heads][];
        int block = Math.min(tokens, ATTENTION_ROW_BLOCK);
        Parallel.forEach(heads, h -> {
            int kvh = h / groups;
            double[] dKacc = dKShare[h] = new double[tokens * headDim], dVacc = dVShare[h] = new double[tokens * headDim];
            // The head's slices widened to double once: [tokens, headDim] each.
            double[] qh = slice(q, heads, h, tokens, headDim), gh = slice(dOut, heads, h, tokens, headDim);
            double[] kh = slice(keys, kvHeads, kvh, tokens, headDim), vh = slice(values, kvHeads, kvh, tokens, headDim);
            double[] kt = transpose(kh, tokens, headDim), vt = transpose(vh, tokens, headDim); // [headDim, tokens]
            // A block of query rows at a time: its probabilities and score gradients [rows, tokens] (zero
            // where a key is masked), then dV, dK and dq as products of those with g, q and k.
            double[] score = new double[tokens], p = new double[block * tokens], ds = new double[block * tokens];
            double[] dq = new double[block * headDim];
            for (int i0 = 0; i0 < tokens; i0 += block) {
                int rows = Math.min(block, tokens - i0);
                java.util.Arrays.fill(p, 0);
                java.util.Arrays.fill(ds, 0);
                for (int i = i0; i < i0 + rows; i++) {
                    int lo = mask.firstVisibleKey(i), hi = mask.endVisibleKeys(i);
                    int io = i * headDim, po = (i - i0) * tokens;
                    double max = Double.NEGATIVE_INFINITY;
                    rowTimesTransposed(qh, io, kt, tokens, headDim, lo, hi, score);
                    for (int j = lo; j < hi; j++) {
                        double v = score[j] * scale;
                        if (softCap > 0) v = Math.tanh(v / softCap) * softCap;
                        score[j] = v;
                        max = Math.max(max, v);
                    }
                    double total = 0;
                    for (int j = lo; j < hi; j++) total += p[po + j] = Math.exp(score[j] - max);
                    rowTimesTransposed(gh, io, vt, tokens, headDim, lo, hi, ds, po); // dp
                    double weighted = 0;
                    for (int j = lo; j < hi; j++) {
                        p[po + j] /= total;
                        weighted += p[po + j] * ds[po + j];
                    }
                    for (int j = lo; j < hi; j++) {
                        double d = p[po + j] * (ds[po + j] - weighted); // softmaxBackward
                        if (softCap > 0) {
                            double t = score[j] / softCap;
                            d *= 1 - t * t;
                        }
                        ds[po + j] = d * scale;
                    }
                }
                // dV_j += Σ_i p_ij g_i, dK_j += Σ_i ds_ij q_i, dq_i = Σ_j ds_ij k_j, each sum in index order.
                combine(p, tokens, 1, rows, tokens, gh, i0 * headDim, headDim, dVacc);
                combine(ds, tokens, 1, rows, tokens, qh, i0 * headDim, headDim, dKacc);
                java.util.Arrays.fill(dq, 0);
                combine(ds, 1, tokens, tokens, rows, kh, 0, headDim, dq);
                for (int i = i0; i < i0 + rows; i++) {
                    int qo = (i * heads + h) * headDim, o = (i - i0) * headDim;
                    for (int d = 0; d < headDim; d++) dQ[qo + d] += (float) dq[o + d];
                }
            }
        });
        Parallel.forEach(kvHeads, kvh -> {
            for (int j = 0; j < tokens; j++) {
                int ko = (j * kvHeads + kvh) * headDim;
                for (int d = 0; d < headDim; d++) {
                    double k = 0, v = 0;
                    for (int h = kvh * groups; h < (kvh + 1) * groups; h++) {
                        k += dKShare[h][j * headDim + d];
                        v += dVShare[h][j * headDim + d];
                    }
                    dK[ko + d] += (float) k;
                    dV[ko + d] += (float) v;
                }
            }
        });
    }

    /** Head {@code head}'s columns of {@code a [tokens, heads·headDim]} as doubles {@code [tokens, headDim]}. */
    private static double[] slice(float[] a, int heads, int head, int tokens, int headDim) {
        double[] out = new double[tokens * headDim];
        for (int t = 0; t < tokens; t++) {
            int o = (t * heads + head) * headDim;
            for (int d = 0; d < headDim; d++) out[t * headDim + d] = a[o + d];
        }
        return out;
    }

    /** {@code a [rows, cols]} transposed: {@code [cols, rows]}. */
    private static double[] transpose(double[] a, int rows, int cols) {
        double[] out = new double[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
        return out;
    }

    /**
     * {@code out[j] = Σ_d a[ao + d]·bt[d·stride + j]} for j in [lo, hi): one row times a matrix stored
     * transposed, vectorised over j so that no sum is split across lanes. Each sum runs over d in order,
     * a product then an addition, as a scalar loop forms it.
     */
    private static void rowTimesTransposed(double[] a, int ao, double[] bt, int stride, int n, int lo, int hi, double[] out) {
        rowTimesTransposed(a, ao, bt, stride, n, lo, hi, out, 0);
    }

    /** {@link #rowTimesTransposed} writing {@code out[oo + j]}. */
    private static void rowTimesTransposed(double[] a, int ao, double[] bt, int stride, int n, int lo, int hi, double[] out,
                                           int oo) {
        int lanes = D.length(), j = lo;
        for (; j <= hi - 4 * lanes; j += 4 * lanes) {
            DoubleVector s0 = DoubleVector.zero(D), s1 = s0, s2 = s0, s3 = s0;
            for (int d = 0, b = j; d < n; d++, b += stride) {
                double x = a[ao + d];
                s0 = s0.add(DoubleVector.fromArray(D, bt, b).mul(x));
                s1 = s1.add(DoubleVector.fromArray(D, bt, b + lanes).mul(x));
                s2 = s2.add(DoubleVector.fromArray(D, bt, b + 2 * lanes).mul(x));
                s3 = s3.add(DoubleVector.fromArray(D, bt, b + 3 * lanes).mul(x));
            }
            s0.intoArray(out, oo + j);
            s1.intoArray(out, oo + j + lanes);
            s2.intoArray(out, oo + j + 2 * lanes);
            s3.intoArray(out, oo + j + 3 * lanes);
        }
        for (; j <= hi - lanes; j += lanes) {
            DoubleVector s0 = DoubleVector.zero(D);
            for (int d = 0, b = j; d < n; d++, b += stride) s0 = s0.add(DoubleVector.fromArray(D, bt, b).mul(a[ao + d]));
            s0.intoArray(out, oo + j);
        }
        for (; j < hi; j++) {
            double sum = 0;
            for (int d = 0; d < n; d++) sum += a[ao + d] * bt[d * stride + j];
            out[oo + j] = sum;
        }
    }

    /**
     * {@code out[r·cols + c] += Σ_t m[t·tStride + r·rStride]·x[xo + t·cols + c]} for t in [0, terms), r in
     * [0, rows), c in [0, cols): a product with m read through strides (so m or its transpose). Blocks of
     * 4 rows and two vectors of columns keep their sums in registers; each sum runs over t in order.
     */
    private static void combine(double[] m, int tStride, int rStride, int terms, int rows, double[] x, int xo, int cols,
                                double[] out) {
        int lanes = D.length(), vectorEnd = cols - cols % (2 * lanes), r = 0;
        for (; r <= rows - 4; r += 4) {
            int m0 = r * rStride, m1 = m0 + rStride, m2 = m1 + rStride, m3 = m2 + rStride;
            for (int c = 0; c < vectorEnd; c += 2 * lanes) {
                DoubleVector a00 = DoubleVector.zero(D), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                for (int t = 0, mt = 0, o = xo + c; t < terms; t++, mt += tStride, o += cols) {
                    DoubleVector x0 = DoubleVector.fromArray(D, x, o), x1 = DoubleVector.fromArray(D, x, o + lanes);
                    double d0 = m[m0 + mt], d1 = m[m1 + mt], d2 = m[m2 + mt], d3 = m[m3 + mt];
                    a00 = a00.add(x0.mul(d0));
                    a01 = a01.add(x1.mul(d0));
                    a10 = a10.add(x0.mul(d1));
                    a11 = a11.add(x1.mul(d1));
                    a20 = a20.add(x0.mul(d2));
                    a21 = a21.add(x1.mul(d2));
                    a30 = a30.add(x0.mul(d3));
                    a31 = a31.add(x1.mul(d3));
                }
                addInto(a00, out, r * cols + c);
                addInto(a01, out, r * cols + c + lanes);
                addInto(a10, out, (r + 1) * cols + c);
                addInto(a11, out, (r + 1) * cols + c + lanes);
                addInto(a20, out, (r + 2) * cols + c);
                addInto(a21, out, (r + 2) * cols + c + lanes);
                addInto(a30, out, (r + 3) * cols + c);
                addInto(a31, out, (r + 3) * cols + c + lanes);
            }
            if (vectorEnd < cols) combineScalar(m, tStride, rStride, terms, r, r + 4, x, xo, cols, vectorEnd, out);
        }
        if (r < rows) combineScalar(m, tStride, rStride, terms, r, rows, x, xo, cols, 0, out);
    }

    private static void addInto(DoubleVector v, double[] out, int o) {
        v.add(DoubleVector.fromArray(D, out, o)).intoArray(out, o);
    }

    /** {@link #combine} for rows [r0, r1) and columns [c0, cols), one element at a time. */
    private static void combineScalar(double[] m, int tStride, int rStride, int terms, int r0, int r1, double[] x, int xo,
                                      int cols, int c0, double[] out) {
        for (int r = r0; r < r1; r++) {
            for (int c = c0; c < cols; c++) {
                double sum = 0;
                for (int t = 0; t < terms; t++) sum += m[t * tStride + r * rStride] * x[xo + t * cols + c];
                out[r * cols + c] += sum;
            }
        }
    }
}
