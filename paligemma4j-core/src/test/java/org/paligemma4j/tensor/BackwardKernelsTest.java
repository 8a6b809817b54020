package org.paligemma4j.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The backward kernels against their scalar twins ({@link ScalarBackward}) and, each of them, against
 * finite differences of the forward kernel it differentiates: for a random direction u and random
 * output weights r, {@code (L(x + hu) − L(x − hu)) / 2h} with {@code L = Σ r·f(x)} must equal
 * {@code ⟨∇L, u⟩} from the backward pass. The forward kernels run in float32, so the differences are
 * taken with a step of 1e-2 and compared to 2e-3 relative: a wrong formula is off by far more.
 */
class BackwardKernelsTest {
    private final Random random = new Random(42);

    private float[] randoms(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (random.nextGaussian() * scale);
        return a;
    }

    private static void assertClose(float[] expected, float[] actual, double relTol, String what) {
        double max = 0, worst = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= relTol * max, what + ": max |diff| " + worst + " of " + max);
    }

    /** ⟨r, f(x)⟩ in double. */
    private static double weighted(float[] r, float[] y) {
        double s = 0;
        for (int i = 0; i < r.length; i++) s += (double) r[i] * y[i];
        return s;
    }

    /** Checks ⟨grad, u⟩ against the central difference of x ↦ ⟨r, f(x)⟩ along u. */
    private void directional(float[] x, float[] grad, Function<float[], float[]> f, float[] r, String what) {
        float[] u = randoms(x.length, 1);
        double h = 1e-2;
        float[] plus = x.clone(), minus = x.clone();
        for (int i = 0; i < x.length; i++) {
            plus[i] += (float) (h * u[i]);
            minus[i] -= (float) (h * u[i]);
        }
        double numeric = (weighted(r, f.apply(plus)) - weighted(r, f.apply(minus))) / (2 * h);
        double analytic = 0;
        for (int i = 0; i < x.length; i++) analytic += (double) grad[i] * u[i];
        assertTrue(Math.abs(numeric - analytic) <= 2e-3 * Math.max(1, Math.abs(numeric)),
                what + ": finite difference " + numeric + ", backward " + analytic);
    }

    @Test
    void matmulGradientsMatchTheirScalarTwins() {
        matmulGradientsMatchTheirScalarTwins(37, 19, 45);
        // whole register blocks of rows and vectors of columns, and ragged ends of both
        matmulGradientsMatchTheirScalarTwins(29, 66, 64);
        matmulGradientsMatchTheirScalarTwins(5, 8, 130);
        matmulGradientsMatchTheirScalarTwins(1, 3, 7);
    }

    /**
     * Weights in a stored format, read in place as their transpose: the input gradient adds into what dX held, also
     * when W has more rows than one column block of the packed GEMM (its sums then come in several blocks), and for
     * fewer tokens than the GEMM takes (W's rows scaled and added, in column blocks across the threads).
     */
    @ParameterizedTest
    @CsvSource({"BF16, 4500, 40, 9", "F16, 70, 33, 12", "BF16, 64, 2048, 3", "F32, 5000, 17, 8", "BF16, 300, 2304, 5",
            "F32, 20, 7, 1", "F16, 9, 70, 2"})
    void inputGradientOfStoredWeightsAddsIntoDx(StoredType dtype, int rows, int cols, int tokens) {
        FloatMatrix m = KernelOracleTest.matrix(dtype, rows, cols, rows + 7L * cols);
        float[] dY = randoms(tokens * rows, 2), before = randoms(tokens * cols, 3);
        float[] dX = before.clone(), expected = new float[tokens * cols];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < cols; c++) {
                double s = before[t * cols + c];
                for (int r = 0; r < rows; r++) s += (double) dY[t * rows + r] * m.get(r, c);
                expected[t * cols + c] = (float) s;
            }
        }
        Backward.matmulInputGrad(m, dY, tokens, dX);
        assertClose(expected, dX, 1e-5, dtype + " dX");
    }

    private void matmulGradientsMatchTheirScalarTwins(int tokens, int rows, int cols) {
        float[] w = randoms(rows * cols, 1), x = randoms(tokens * cols, 1), dY = randoms(tokens * rows, 1);
        FloatMatrix m = new ArrayMatrix("w", w, rows, cols);
        float[] dX = new float[tokens * cols], dXTwin = new float[tokens * cols];
        Backward.matmulInputGrad(m, dY, tokens, dX);
        ScalarBackward.matmulInputGrad(m, dY, tokens, dXTwin);
        assertClose(dXTwin, dX, 1e-6, "dX");
        float[] dW = new float[rows * cols], dWTwin = new float[rows * cols];
        Backward.matmulWeightGrad(dY, x, tokens, rows, cols, dW);
        ScalarBackward.matmulWeightGrad(dY, x, tokens, rows, cols, dWTwin);
        assertClose(dWTwin, dW, 1e-6, "dW");
        // and both against the forward product
        directional(x, dX, in -> {
            float[] y = new float[tokens * rows];
            m.matmul(in, tokens, y);
            return y;
        }, dY, "matmul input");
    }

    @Test
    void attentionBackwardMatchesItsScalarTwinAndTheForward() {
        attentionBackwardMatchesItsScalarTwinAndTheForward(4, 2, 8, 0.3f);
        // the decoder's and the vision tower's head sizes, and one that no vector length divides
        attentionBackwardMatchesItsScalarTwinAndTheForward(4, 1, 64, 0.125f);
        attentionBackwardMatchesItsScalarTwinAndTheForward(2, 2, 32, 0.17f);
        attentionBackwardMatchesItsScalarTwinAndTheForward(2, 1, 13, 0.28f);
    }

    private void attentionBackwardMatchesItsScalarTwinAndTheForward(int heads, int kvHeads, int headDim, float scale) {
        int tokens = 23;
        AttentionMask mask = new AttentionMask() { // a prefix of 9 and a window of 7 on the causal rows
            public int firstVisibleKey(int p) {
                return p < 9 ? 0 : Math.max(0, p - 6);
            }

            public int endVisibleKeys(int p) {
                return Math.max(p + 1, 9);
            }
        };
        for (float cap : new float[] {0f, 2f}) {
            float[] q = randoms(tokens * heads * headDim, 1), k = randoms(tokens * kvHeads * headDim, 1);
            float[] v = randoms(k.length, 1), dOut = randoms(q.length, 1);
            float[] dQ = new float[q.length], dK = new float[k.length], dV = new float[v.length];
            float[] tQ = new float[q.length], tK = new float[k.length], tV = new float[v.length];
            Backward.attentionBackward(q, k, v, dOut, tokens, heads, kvHeads, headDim, scale, cap, mask, dQ, dK, dV);
            ScalarBackward.attentionBackward(q, k, v, dOut, tokens, heads, kvHeads, headDim, scale, cap, mask, tQ, tK, tV);
            assertClose(tQ, dQ, 1e-6, "dQ cap " + cap);
            assertClose(tK, dK, 1e-6, "dK cap " + cap);
            assertClose(tV, dV, 1e-6, "dV cap " + cap);
            Function<float[][], float[]> attend = in -> {
                float[] out = new float[q.length];
                Attention.attend(in[0], tokens, 0, in[1], in[2], heads, kvHeads, headDim, scale, cap, mask, out);
                return out;
            };
            directional(q, dQ, x -> attend.apply(new float[][] {x, k, v}), dOut, "attention dQ cap " + cap);
            directional(k, dK, x -> attend.apply(new float[][] {q, x, v}), dOut, "attention dK cap " + cap);
            directional(v, dV, x -> attend.apply(new float[][] {q, k, x}), dOut, "attention dV cap " + cap);
        }
    }

    @Test
    void rmsNormBackwardMatchesTheForward() {
        int tokens = 5, dim = 24;
        float eps = 1e-6f;
        float[] x = randoms(tokens * dim, 2), w = randoms(dim, 0.5), dY = randoms(tokens * dim, 1);
        float[] dX = new float[x.length], dW = new float[dim];
        Backward.rmsNormBackward(x, dY, tokens, dim, w, eps, dX, dW);
        directional(x, dX, in -> {
            float[] y = new float[in.length];
            Ops.rmsNorm(in, y, tokens, dim, w, eps);
            return y;
        }, dY, "RMSNorm(1+w) dx");
        directional(w, dW, in -> {
            float[] y = new float[x.length];
            Ops.rmsNorm(x, y, tokens, dim, in, eps);
            return y;
        }, dY, "RMSNorm(1+w) dw");
    }

    @Test
    void layerNormBackwardMatchesTheForward() {
        int tokens = 5, dim = 24;
        float eps = 1e-6f;
        float[] x = randoms(tokens * dim, 2), w = randoms(dim, 1), b = randoms(dim, 1), dY = randoms(tokens * dim, 1);
        float[] dX = new float[x.length], dW = new float[dim], dB = new float[dim];
        Backward.layerNormBackward(x, dY, tokens, dim, w, eps, dX, dW, dB);
        directional(x, dX, in -> {
            float[] y = new float[in.length];
            Ops.layerNorm(in, y, tokens, dim, w, b, eps);
            return y;
        }, dY, "LayerNorm dx");
        directional(w, dW, in -> {
            float[] y = new float[x.length];
            Ops.layerNorm(x, y, tokens, dim, in, b, eps);
            return y;
        }, dY, "LayerNorm dw");
        directional(b, dB, in -> {
            float[] y = new float[x.length];
            Ops.layerNorm(x, y, tokens, dim, w, in, eps);
            return y;
        }, dY, "LayerNorm db");
    }

    @Test
    void geluGegluAndSoftCapBackwardsMatchTheirForwards() {
        int n = 64;
        float[] x = randoms(n, 2), up = randoms(n, 1), dY = randoms(n, 1);
        float[] dX = new float[n];
        Backward.geluTanhBackward(x, dY, n, dX);
        directional(x, dX, in -> {
            float[] y = new float[n];
            for (int i = 0; i < n; i++) y[i] = Ops.geluTanh(in[i]);
            return y;
        }, dY, "GELU-tanh");
        float[] dGate = new float[n], dUp = new float[n];
        Backward.gegluBackward(x, up, dY, n, dGate, dUp);
        directional(x, dGate, in -> {
            float[] g = in.clone();
            Ops.geglu(g, up, n);
            return g;
        }, dY, "GeGLU gate");
        directional(up, dUp, in -> {
            float[] g = x.clone();
            Ops.geglu(g, in, n);
            return g;
        }, dY, "GeGLU up");
        float[] z = randoms(n, 5), d = dY.clone();
        Backward.softCapBackward(z, d, 0, n, 3f);
        directional(z, d, in -> {
            float[] y = in.clone();
            Ops.softCap(y, 0, n, 3f);
            return y;
        }, dY, "soft cap");
    }

    @Test
    void crossEntropyGradientIsSoftmaxMinusOneHot() {
        int n = 50, target = 7;
        float[] z = randoms(n, 3), dZ = new float[n];
        double loss = Backward.crossEntropy(z, 0, n, target, 0.25, dZ, 0);
        directional(z, dZ, in -> {
            float[] dummy = new float[n];
            return new float[] {(float) (0.25 * Backward.crossEntropy(in, 0, n, target, 1, dummy, 0))};
        }, new float[] {1f}, "cross-entropy");
        double sum = 0;
        for (float v : dZ) sum += v;
        assertTrue(Math.abs(sum) < 1e-6, "softmax − one-hot sums to zero, got " + sum);
        assertTrue(loss > 0, "cross-entropy is positive");
    }

    @Test
    void softmaxBackwardMatchesItsJacobianTwin() {
        int n = 17, from = 3, to = 15;
        double[] p = new double[n], dp = new double[n], ds = new double[n], twin = new double[n];
        double total = 0, weighted = 0;
        for (int j = from; j < to; j++) total += p[j] = Math.exp(random.nextGaussian());
        for (int j = from; j < to; j++) {
            p[j] /= total;
            dp[j] = random.nextGaussian();
            weighted += p[j] * dp[j];
        }
        Backward.softmaxBackward(p, dp, from, to, weighted, ds);
        ScalarBackward.softmaxBackward(p, dp, from, to, twin);
        for (int j = 0; j < n; j++) assertTrue(Math.abs(ds[j] - twin[j]) < 1e-15, "ds[" + j + "]: " + ds[j] + " vs " + twin[j]);
    }
}
