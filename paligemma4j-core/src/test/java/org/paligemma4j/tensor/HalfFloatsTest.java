package org.paligemma4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Widening to float32 is exact for all 65,536 patterns of both 16-bit formats. */
class HalfFloatsTest {

    /** Reference binary16 value from its definition: (-1)^s · 2^(e-15) · (1 + m/1024), subnormals 2^-14 · m/1024. */
    private static int referenceF16Bits(int h) {
        int s = h >>> 15, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
        if (e == 0x1f) {
            // Inf or NaN: float32 with all-ones exponent and the 10 payload bits at the top of the fraction.
            return (s << 31) | 0x7f80_0000 | (m << 13);
        }
        double magnitude = e == 0 ? Math.scalb((double) m, -24) : Math.scalb(1024.0 + m, e - 25);
        return Float.floatToRawIntBits((float) (s == 1 ? -magnitude : magnitude));
    }

    @Test
    void f16WideningIsExactForEveryBitPattern() {
        for (int h = 0; h < 65536; h++) {
            int got = Float.floatToRawIntBits(HalfFloats.f16ToFloat((short) h));
            assertEquals(referenceF16Bits(h), got, "f16 pattern " + h);
        }
    }

    @Test
    void f16WideningKeepsSignOfZeroAndSubnormalsAndInfinities() {
        assertEquals(0x8000_0000, Float.floatToRawIntBits(HalfFloats.f16ToFloat((short) 0x8000)));
        assertEquals(Math.scalb(1f, -24), HalfFloats.f16ToFloat((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.f16ToFloat((short) 0x7c00));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.f16ToFloat((short) 0xfc00));
        assertEquals(65504f, HalfFloats.f16ToFloat((short) 0x7bff));
    }

    @Test
    void bf16WideningIsExactForEveryBitPattern() {
        for (int h = 0; h < 65536; h++) {
            int s = h >>> 15, e = (h >>> 7) & 0xff, m = h & 0x7f;
            int want;
            if (e == 0xff) {
                want = (s << 31) | 0x7f80_0000 | (m << 16);
            } else {
                double magnitude = e == 0 ? Math.scalb((double) m, -133) : Math.scalb(128.0 + m, e - 134);
                want = Float.floatToRawIntBits((float) (s == 1 ? -magnitude : magnitude));
            }
            final int pattern = h;
            assertEquals(want, Float.floatToRawIntBits(HalfFloats.bf16ToFloat((short) h)),
                    () -> "bf16 pattern 0x" + Integer.toHexString(pattern));
        }
    }

    @Test
    void bf16NarrowingRoundsToNearestEven() {
        // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to the even mantissa (1.0).
        assertEquals((short) 0x3f80, HalfFloats.floatToBf16(1f + 0x1p-8f));
        // 1 + 3·2^-8 is halfway too; the even neighbour is 1 + 2^-6.
        assertEquals((short) 0x3f82, HalfFloats.floatToBf16(1f + 3 * 0x1p-8f));
        for (int h = 0; h < 65536; h++) {
            float f = HalfFloats.bf16ToFloat((short) h);
            if (!Float.isNaN(f)) assertEquals((short) h, HalfFloats.floatToBf16(f));
        }
    }

    @Test
    void arrayConversionsMatchTheScalarOnesOnEveryKindOfValue() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        int n = 4099; // a ragged tail after the vector loop
        float[] floats = new float[n];
        for (int i = 0; i < n; i++) {
            floats[i] = switch (i % 7) {
                case 0 -> Float.intBitsToFloat(random.nextInt()); // any pattern: NaNs, infinities, subnormals
                case 1 -> Float.NaN;
                case 2 -> (float) random.nextGaussian() * 1e-40f;
                default -> (float) random.nextGaussian();
            };
        }
        floats[5] = Float.MAX_VALUE; // rounds up to infinity
        floats[6] = -Float.MAX_VALUE;
        short[] halves = new short[n + 3];
        HalfFloats.roundToBf16(floats, 0, halves, 3, n);
        for (int i = 0; i < n; i++) {
            assertEquals(HalfFloats.floatToBf16(floats[i]), halves[3 + i], "element " + i);
        }
        float[] widened = new float[n + 1];
        HalfFloats.widenBf16(halves, 3, widened, 1, n);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(HalfFloats.bf16ToFloat(halves[3 + i])), Float.floatToRawIntBits(widened[1 + i]),
                    "element " + i);
        }
    }
}
