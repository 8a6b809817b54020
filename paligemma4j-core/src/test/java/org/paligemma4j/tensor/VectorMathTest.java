package org.paligemma4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    /** Largest error in ulps of the float result over the inputs, against the correctly rounded value. */
    private static double maxUlps(float[] inputs, UnaryOperator<FloatVector> vector, DoubleUnaryOperator exact) {
        double worst = 0;
        float[] out = new float[L];
        for (int i = 0; i + L <= inputs.length; i += L) {
            vector.apply(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, inputs, i)).intoArray(out, 0);
            for (int j = 0; j < L; j++) {
                float expected = (float) exact.applyAsDouble(inputs[i + j]);
                double ulps = Math.abs((double) out[j] - expected) / Math.ulp(expected);
                if (expected == 0) ulps = out[j] == 0 ? 0 : Double.POSITIVE_INFINITY;
                worst = Math.max(worst, ulps);
            }
        }
        return worst;
    }

    private static float[] uniform(double lo, double hi, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return x;
    }

    @Test
    void expIsWithinTwoUlpsWhereSoftmaxUsesIt() {
        // Softmax exponents are ≤ 0; above 0 up to 80 covers everything else it could meet.
        assertTrue(maxUlps(uniform(-87, 0, 1 << 18, 1), VectorMath::exp, StrictMath::exp) <= 2);
        assertTrue(maxUlps(uniform(-1, 1, 1 << 18, 2), VectorMath::exp, StrictMath::exp) <= 2);
        assertTrue(maxUlps(uniform(0, 80, 1 << 16, 3), VectorMath::exp, StrictMath::exp) <= 2);
    }

    /**
     * GELU (tanh approximation) against its exact value, x / (1 + e^{−2u}) in double precision (the same
     * function as 0.5·x·(1 + tanh u), without that form's cancellation). Within 4 ulps from x = −1 up;
     * below, the value shrinks like e^{2u} and an ulp of u becomes many ulps of the result, so there the
     * bound is absolute: 2^−23·|x|, what rounding 1 + tanh u to float32 alone costs the reference.
     */
    @Test
    void vectorGeluMatchesItsExactValue() {
        DoubleUnaryOperator exact = x -> x / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
        assertTrue(maxUlps(uniform(-1, 10, 1 << 18, 7), Ops::geluTanh, exact) <= 4);
        assertTrue(maxUlps(uniform(-0.01, 0.01, 1 << 14, 8), Ops::geluTanh, exact) <= 4);
        float[] x = uniform(-12, 0, 1 << 16, 9), y = new float[L];
        for (int i = 0; i + L <= x.length; i += L) {
            Ops.geluTanh(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i)).intoArray(y, 0);
            for (int j = 0; j < L; j++) {
                assertEquals(exact.applyAsDouble(x[i + j]), y[j], 0x1p-23 * Math.abs(x[i + j]), "x = " + x[i + j]);
            }
        }
    }

    @Test
    void expUnderflowsToZeroAndKeepsExactPoints() {
        float[] x = new float[L];
        java.util.Arrays.fill(x, -100f);
        x[0] = Float.NEGATIVE_INFINITY;
        x[1] = 0f;
        float[] y = new float[L];
        VectorMath.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
        assertEquals(0f, y[0]);
        assertEquals(1f, y[1]);
        for (int i = 2; i < L; i++) assertEquals(0f, y[i]);
    }

    @Test
    void tanhIsWithinTwoUlpsAcrossBothBranchesAndSaturates() {
        assertTrue(maxUlps(uniform(-0.6, 0.6, 1 << 18, 4), VectorMath::tanh, StrictMath::tanh) <= 2);
        assertTrue(maxUlps(uniform(-12, 12, 1 << 18, 5), VectorMath::tanh, StrictMath::tanh) <= 2);
        assertTrue(maxUlps(uniform(-1e-3, 1e-3, 1 << 16, 6), VectorMath::tanh, StrictMath::tanh) <= 2);
        float[] x = new float[L], y = new float[L];
        x[0] = 1e6f;
        x[1] = -1e6f;
        x[2] = -0f;
        x[3] = Float.NaN;
        VectorMath.tanh(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
        assertEquals(1f, y[0]);
        assertEquals(-1f, y[1]);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(y[2]));
        assertTrue(Float.isNaN(y[3]));
    }
}
