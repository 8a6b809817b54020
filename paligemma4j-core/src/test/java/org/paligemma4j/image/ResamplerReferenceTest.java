package org.paligemma4j.image;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Resampler} against two slow implementations written here from PIL's description, in a
 * different shape (weights over the whole input line, long arithmetic, textbook kernel formulas,
 * every row computed): the 22-bit fixed-point one must agree bit for bit; a pure float64 one
 * (rounding to 8 bits between the passes, nothing else) may differ by at most 1 level where the
 * fixed-point weights round differently.
 */
class ResamplerReferenceTest {

    /** {in width, in height, out width, out height}. */
    static final int[][] SHAPES = {
            {200, 150, 56, 56}, {640, 480, 224, 224}, {13, 9, 64, 48}, {31, 120, 64, 17},
            {1, 1000, 56, 56}, {1000, 1, 56, 56}, {1, 1, 56, 56}, {1, 1, 1, 1}, {56, 56, 56, 56},
            {56, 90, 56, 56}, {90, 56, 56, 56}, {45, 37, 1, 1}, {7, 3, 500, 2}, {1000, 2, 3, 700},
            {97, 131, 224, 224}, {224, 224, 223, 225}, {3, 3, 2, 2}, {2, 2, 3, 3},
    };

    static RgbImage randomImage(int w, int h, long seed, boolean extreme) {
        Random r = new Random(seed);
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    // Extreme: a 0/255 checkerboard, where bicubic overshoot must be clipped.
                    int v = extreme ? (((x + y + c) & 1) == 0 ? 0 : 255) : r.nextInt(256);
                    rgb[(y * w + x) * 3 + c] = (byte) v;
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    @TestFactory
    List<DynamicTest> matchesIndependentFixedPointReferenceBitForBit() {
        List<DynamicTest> tests = new ArrayList<>();
        for (ResampleFilter f : ResampleFilter.values()) {
            for (int[] s : SHAPES) {
                for (boolean extreme : new boolean[] {false, true}) {
                    String name = String.format("%s %dx%d -> %dx%d%s", f, s[0], s[1], s[2], s[3], extreme ? " checkerboard" : "");
                    tests.add(DynamicTest.dynamicTest(name, () -> {
                        RgbImage in = randomImage(s[0], s[1], s[0] * 31L + s[1], extreme);
                        RgbImage ours = Resampler.resize(in, s[2], s[3], f);
                        assertEquals(s[2], ours.width());
                        assertEquals(s[3], ours.height());
                        assertArrayEquals(reference(in, s[2], s[3], f, true).rgb(), ours.rgb(), name);
                        int[] d = PilCrossCheckTest.difference(reference(in, s[2], s[3], f, false).rgb(), ours.rgb());
                        assertTrue(d[1] <= 1, name + ": float64 reference differs by " + d[1]);
                    }));
                }
            }
        }
        return tests;
    }

    @Test
    void fixedPointDiffersFromFloat64OnlyByOneLevelOnAFewPixels() {
        int differing = 0, total = 0;
        for (int[] s : SHAPES) {
            RgbImage in = randomImage(s[0], s[1], 7, false);
            RgbImage ours = Resampler.resize(in, s[2], s[3], ResampleFilter.BICUBIC);
            int[] d = PilCrossCheckTest.difference(reference(in, s[2], s[3], ResampleFilter.BICUBIC, false).rgb(), ours.rgb());
            differing += d[0];
            total += s[2] * s[3];
            assertTrue(d[1] <= 1);
        }
        System.out.printf("fixed point vs float64 (bicubic, %d shapes): %d of %d pixels differ by 1 (%.3f%%)%n",
                SHAPES.length, differing, total, 100.0 * differing / total);
    }

    @Test
    void constantImageStaysConstant() {
        byte[] rgb = new byte[37 * 23 * 3];
        java.util.Arrays.fill(rgb, (byte) 200);
        for (ResampleFilter f : ResampleFilter.values()) {
            RgbImage out = Resampler.resize(new RgbImage(37, 23, rgb), 56, 56, f);
            for (byte b : out.rgb()) {
                assertEquals(200, b & 0xff);
            }
        }
    }

    @Test
    void sameSizeReturnsACopy() {
        RgbImage in = randomImage(5, 4, 1, false);
        RgbImage out = Resampler.resize(in, 5, 4, ResampleFilter.BICUBIC);
        assertArrayEquals(in.rgb(), out.rgb());
        assertTrue(in.rgb() != out.rgb());
    }

    @Test
    void rejectsNonPositiveTargetSize() {
        RgbImage in = randomImage(5, 4, 1, false);
        assertThrows(IllegalArgumentException.class, () -> Resampler.resize(in, 0, 4, ResampleFilter.BICUBIC));
        assertThrows(IllegalArgumentException.class, () -> Resampler.resize(in, 4, -1, ResampleFilter.BILINEAR));
    }

    @Test
    void unsupportedPilFiltersAreNamedInTheError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ResampleFilter.fromPilCode(1));
        assertEquals("resample 1 (LANCZOS) is not supported; supported: 2 (BILINEAR), 3 (BICUBIC)", e.getMessage());
        assertEquals(ResampleFilter.BICUBIC, ResampleFilter.fromPilCode(3));
        assertEquals(ResampleFilter.BILINEAR, ResampleFilter.fromPilCode(2));
    }

    // ---- the slow reference -------------------------------------------------------------

    /** Keys' cubic with a = -0.5 and the triangle, in their textbook polynomial forms. */
    static double kernel(ResampleFilter f, double x) {
        double t = Math.abs(x);
        if (f == ResampleFilter.BILINEAR) {
            return t < 1 ? 1 - t : 0;
        }
        double a = -0.5;
        if (t < 1) {
            return (a + 2) * t * t * t - (a + 3) * t * t + 1;
        }
        if (t < 2) {
            return a * t * t * t - 5 * a * t * t + 8 * a * t - 4 * a;
        }
        return 0;
    }

    /**
     * The weights of every input pixel for output pixel {@code o}: the kernel stretched by the
     * downscale factor, sampled at pixel centres inside the rounded window, normalised to sum 1.
     */
    static double[] weights(int inSize, int outSize, int o, ResampleFilter f) {
        double scale = (double) inSize / outSize;
        double stretch = Math.max(1.0, scale);
        double support = (f == ResampleFilter.BICUBIC ? 2 : 1) * stretch;
        double center = (o + 0.5) * scale;
        int first = Math.max(0, (int) (center - support + 0.5));
        int end = Math.min(inSize, (int) (center + support + 0.5));
        double[] w = new double[inSize];
        double sum = 0;
        for (int i = first; i < end; i++) {
            w[i] = kernel(f, (i - center + 0.5) / stretch);
            sum += w[i];
        }
        for (int i = 0; i < inSize; i++) {
            w[i] = sum == 0 ? w[i] : w[i] / sum;
        }
        return w;
    }

    /** One pass along lines of length {@code inSize}; {@code fixedPoint} picks 22-bit integers or doubles. */
    static int[] pass(int[] in, int lines, int inSize, int outSize, boolean alongRows, ResampleFilter f, boolean fixedPoint) {
        int[] out = new int[lines * outSize * 3];
        for (int o = 0; o < outSize; o++) {
            double[] w = weights(inSize, outSize, o, f);
            long[] q = new long[inSize];
            for (int i = 0; i < inSize; i++) {
                // Round half away from zero (PIL adds +-0.5 then truncates).
                q[i] = (long) (w[i] < 0 ? -0.5 + w[i] * (1 << 22) : 0.5 + w[i] * (1 << 22));
            }
            for (int line = 0; line < lines; line++) {
                for (int c = 0; c < 3; c++) {
                    long acc = 0;
                    double dacc = 0;
                    for (int i = 0; i < inSize; i++) {
                        int idx = alongRows ? (line * inSize + i) * 3 + c : (i * lines + line) * 3 + c;
                        acc += q[i] * in[idx];
                        dacc += w[i] * in[idx];
                    }
                    long v = fixedPoint ? Math.floorDiv(acc + (1L << 21), 1L << 22) : (long) Math.floor(dacc + 0.5);
                    int outIdx = alongRows ? (line * outSize + o) * 3 + c : (o * lines + line) * 3 + c;
                    out[outIdx] = (int) Math.max(0, Math.min(255, v));
                }
            }
        }
        return out;
    }

    static RgbImage reference(RgbImage in, int outW, int outH, ResampleFilter f, boolean fixedPoint) {
        int[] px = new int[in.rgb().length];
        for (int i = 0; i < px.length; i++) {
            px[i] = in.rgb()[i] & 0xff;
        }
        int w = in.width(), h = in.height();
        if (outW != w) {
            px = pass(px, h, w, outW, true, f, fixedPoint);
            w = outW;
        }
        if (outH != h) {
            px = pass(px, w, h, outH, false, f, fixedPoint);
        }
        byte[] rgb = new byte[px.length];
        for (int i = 0; i < px.length; i++) {
            rgb[i] = (byte) px[i];
        }
        return new RgbImage(outW, outH, rgb);
    }
}
