package org.paligemma4j.tensor;

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
}
