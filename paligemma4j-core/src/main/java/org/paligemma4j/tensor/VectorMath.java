package org.paligemma4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and tanh on float32 lanes from additions, multiplications and bit operations only, so every lane
 * rounds the same way whether the JIT has compiled the caller or not. The Vector API's own
 * {@code lanewise(EXP)} and {@code lanewise(TANH)} call a native math library once compiled and a Java
 * fallback before, which differ in the last bit: the same model gave different logits as it warmed up.
 * Accuracy is within 2 ulp of the exact values (checked against {@link StrictMath} in the tests).
 */
final class VectorMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private static final float LOG2_E = 1.44269504088896341f;
    /** ln 2 split so that n·LN2_HIGH is exact for the n that occur (Cody and Waite). */
    private static final float LN2_HIGH = 0.693359375f;
    private static final float LN2_LOW = -2.12194440e-4f;
    /** 1.5·2^23: adding and subtracting it rounds to the nearest integer. */
    private static final float ROUNDER = 12582912f;
    /** Below ln(smallest normal float) exp is 0 here; above 88, where 2^n would overflow the exponent, it is clamped. */
    private static final float EXP_MIN = -87.33654f, EXP_MAX = 88f;
    /** tanh(x) rounds to ±1 in float32 from here on. */
    private static final float TANH_SATURATES = 9.1f;
    /** Below this |x| tanh comes from its odd series, above from exp (no cancellation either side). */
    private static final float TANH_SERIES_BELOW = 0.55f;
    /** Taylor coefficients of tanh: x + c1·x³ + c2·x⁵ + … (enough terms for float32 on |x| < 0.55). */
    private static final float[] TANH_SERIES = {
        -1f / 3, 2f / 15, -17f / 315, 62f / 2835, -1382f / 155925, 21844f / 6081075, -929569f / 638512875,
        (float) (6404582.0 / 10854718875.0), (float) (-443861162.0 / 1856156927625.0),
        (float) (18888466084.0 / 194896477400625.0)};

    private VectorMath() {}

    /** e^x per lane. */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> underflow = x.lt(EXP_MIN);
        FloatVector clamped = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector n = clamped.mul(LOG2_E).add(ROUNDER).sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HIGH), clamped);
        r = n.fma(FloatVector.broadcast(F, -LN2_LOW), r);
        // e^r on |r| ≤ ln2/2: Taylor to r⁷, truncation error below 1e-8.
        FloatVector p = r.fma(1f / 5040, 1f / 720);
        for (float c : new float[] {1f / 120, 1f / 24, 1f / 6, 0.5f, 1f, 1f}) p = p.fma(r, FloatVector.broadcast(F, c));
        IntVector exponent = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(exponent.reinterpretAsFloats()).blend(0f, underflow);
    }

    /** tanh(x) per lane. */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs().min(TANH_SATURATES);
        // Small |x|: the odd series, in Horner form over x².
        FloatVector a2 = a.mul(a);
        FloatVector s = FloatVector.broadcast(F, TANH_SERIES[TANH_SERIES.length - 1]);
        for (int i = TANH_SERIES.length - 2; i >= 0; i--) s = s.fma(a2, FloatVector.broadcast(F, TANH_SERIES[i]));
        FloatVector series = s.mul(a2).mul(a).add(a);
        // Larger |x|: 1 − 2/(e^{2|x|} + 1).
        FloatVector viaExp = FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(exp(a.add(a)).add(1f)));
        FloatVector magnitude = viaExp.blend(series, a.lt(TANH_SERIES_BELOW));
        // tanh is odd: x's sign bit on the magnitude (−0 stays −0; NaN stays NaN through the arithmetic above).
        IntVector sign = x.reinterpretAsInts().and(0x80000000);
        return magnitude.reinterpretAsInts().or(sign).reinterpretAsFloats();
    }
}
