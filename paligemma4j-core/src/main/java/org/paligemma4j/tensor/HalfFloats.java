package org.paligemma4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact conversions between float32 and the two 16-bit float formats checkpoints are stored in.
 * Widening is exact for every bit pattern (NaN payloads and signs are kept, subnormals are normalised),
 * written with integer operations so the result does not depend on what the CPU's conversion
 * instruction does to signalling NaNs.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** bfloat16 is the top half of a float32, so widening is a shift. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** IEEE binary16 to float32: exact for all 65,536 patterns. */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) { // Inf or NaN: keep the payload
            return Float.intBitsToFloat(sign | 0x7f80_0000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            // Subnormal: shift the mantissa up until its leading 1 becomes the implicit bit.
            int shift = Integer.numberOfLeadingZeros(mant) - 21; // leading 1 moved to bit 10
            mant = (mant << shift) & 0x3ff;
            exp = 1 - shift;
        }
        return Float.intBitsToFloat(sign | ((exp + 127 - 15) << 23) | (mant << 13));
    }

    /** float32 to bfloat16 with round-to-nearest-even (NaN stays a quiet NaN), as PyTorch rounds. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x0040);
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** float32 to IEEE binary16, round-to-nearest-even. */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));

    /** {@code dst[d…] = floatToBf16(src[s…])} for {@code n} elements, as {@link #floatToBf16} rounds each. */
    public static void roundToBf16(float[] src, int srcOffset, short[] dst, int dstOffset, int n) {
        java.util.Objects.checkFromIndexSize(srcOffset, n, src.length);
        java.util.Objects.checkFromIndexSize(dstOffset, n, dst.length);
        int i = 0;
        for (int upper = F.loopBound(n); i < upper; i += F.length()) {
            FloatVector f = FloatVector.fromArray(F, src, srcOffset + i);
            if (f.test(VectorOperators.IS_NAN).anyTrue()) {
                for (int j = i; j < i + F.length(); j++) dst[dstOffset + j] = floatToBf16(src[srcOffset + j]);
                continue;
            }
            IntVector bits = f.reinterpretAsInts();
            IntVector rounding = bits.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7fff);
            bits.add(rounding).lanewise(VectorOperators.LSHR, 16).convertShape(VectorOperators.I2S, S, 0)
                    .reinterpretAsShorts().intoArray(dst, dstOffset + i);
        }
        for (; i < n; i++) dst[dstOffset + i] = floatToBf16(src[srcOffset + i]);
    }

    /**
     * The {@code FloatVector.SPECIES_PREFERRED.length()} bfloat16 values from {@code a[i…]} as a float32 vector,
     * widened in registers (the kernels that read bfloat16 arrays load through this).
     */
    static FloatVector widenBf16(short[] a, int i) {
        return ((IntVector) ShortVector.fromArray(S, a, i).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats();
    }

    /** {@code dst[d…] = bf16ToFloat(src[s…])} for {@code n} elements. */
    public static void widenBf16(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        java.util.Objects.checkFromIndexSize(srcOffset, n, src.length);
        java.util.Objects.checkFromIndexSize(dstOffset, n, dst.length);
        int i = 0;
        for (int upper = F.loopBound(n); i < upper; i += F.length()) widenBf16(src, srcOffset + i).intoArray(dst, dstOffset + i);
        for (; i < n; i++) dst[dstOffset + i] = bf16ToFloat(src[srcOffset + i]);
    }
}
