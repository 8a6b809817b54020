package org.paligemma4j.image;

import java.util.Arrays;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * PIL's antialiased separable resampling of 8-bit images ({@code Image.resize(size, filter)}),
 * reproduced bit for bit.
 *
 * <p>The algorithm, as PIL documents and implements it: for each output column the filter is
 * centred on the input position {@code (x + 0.5) * scale}, widened by the downscaling factor (so
 * every input pixel contributes: antialiasing), evaluated at the centres of the input pixels it
 * covers and normalised to sum 1. Those double weights are turned into 22-bit fixed point, rounded
 * half away from zero. A horizontal pass then a vertical pass each accumulate {@code pixel * weight}
 * in a 32-bit integer starting from one half, and clip {@code sum >> 22} to 0..255; the
 * intermediate image is 8-bit, which is why the result is not the exact separable convolution. A
 * pass whose size does not change is skipped; the horizontal pass only computes the rows that the
 * vertical pass reads.
 */
public final class Resampler {

    /** 32 bits minus 8 for the pixel, minus 2 so that negative lobes and sums above 1 cannot overflow. */
    static final int PRECISION_BITS = 32 - 8 - 2;

    /** Below this many multiply-adds a resize stays on the calling thread. */
    private static final long PARALLEL_WORK = 4_000_000;

    private Resampler() {}

    /** Resizes to {@code width x height} (no aspect-ratio preservation, no crop), like PIL. */
    public static RgbImage resize(RgbImage in, int width, int height, ResampleFilter filter) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
        }
        if ((long) width * Math.max(height, in.height()) * 3 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("target size " + width + "x" + height + " is too large");
        }
        boolean horizontal = width != in.width();
        boolean vertical = height != in.height();
        if (!horizontal && !vertical) {
            return new RgbImage(width, height, in.rgb().clone());
        }
        Coefficients rows = Coefficients.compute(in.height(), height, filter);
        byte[] pixels = in.rgb();
        int firstRow = 0;
        int rowCount = in.height();
        if (horizontal) {
            // Only rows some output row will read: from the first window's start to the last window's end.
            firstRow = rows.start(0);
            rowCount = rows.start(height - 1) + rows.length(height - 1) - firstRow;
            Coefficients cols = Coefficients.compute(in.width(), width, filter);
            pixels = horizontalPass(pixels, in.width(), firstRow, rowCount, cols, width);
        }
        if (!vertical) {
            return new RgbImage(width, height, pixels);
        }
        return new RgbImage(width, height, verticalPass(pixels, width, firstRow, rows, height));
    }

    /** Output rows {@code [rowCount, outWidth, 3]} from input rows {@code firstRow ..}. */
    private static byte[] horizontalPass(byte[] in, int inWidth, int firstRow, int rowCount,
                                         Coefficients cols, int outWidth) {
        byte[] out = new byte[rowCount * outWidth * 3];
        forEachRow(rowCount, (long) outWidth * cols.ksize * 3, row -> {
            int inRow = (firstRow + row) * inWidth * 3;
            int o = row * outWidth * 3;
            int[] k = cols.weights;
            for (int xx = 0; xx < outWidth; xx++) {
                int i = inRow + cols.start(xx) * 3;
                int kOff = xx * cols.ksize;
                int n = cols.length(xx);
                int r = 1 << (PRECISION_BITS - 1);
                int g = r;
                int b = r;
                for (int x = 0; x < n; x++, i += 3) {
                    int w = k[kOff + x];
                    r += (in[i] & 0xff) * w;
                    g += (in[i + 1] & 0xff) * w;
                    b += (in[i + 2] & 0xff) * w;
                }
                out[o++] = clip8(r);
                out[o++] = clip8(g);
                out[o++] = clip8(b);
            }
        });
        return out;
    }

    /** Output {@code [outHeight, width, 3]}; {@code in} holds input rows from {@code firstRow} on. */
    private static byte[] verticalPass(byte[] in, int width, int firstRow, Coefficients rows, int outHeight) {
        int stride = width * 3;
        byte[] out = new byte[outHeight * stride];
        forEachRow(outHeight, (long) stride * rows.ksize, yy -> {
            // Row-major accumulation: the inner loop runs along contiguous memory (and vectorises);
            // integer sums are exact, so the order of the terms does not change the result.
            int[] acc = new int[stride];
            Arrays.fill(acc, 1 << (PRECISION_BITS - 1));
            int kOff = yy * rows.ksize;
            int start = rows.start(yy) - firstRow;
            int n = rows.length(yy);
            for (int y = 0; y < n; y++) {
                int w = rows.weights[kOff + y];
                int i = (start + y) * stride;
                for (int c = 0; c < stride; c++) {
                    acc[c] += (in[i + c] & 0xff) * w;
                }
            }
            int o = yy * stride;
            for (int c = 0; c < stride; c++) {
                out[o + c] = clip8(acc[c]);
            }
        });
        return out;
    }

    /** {@code sum >> 22} clipped to 0..255 (the arithmetic shift floors negative sums). */
    static byte clip8(int sum) {
        int v = sum >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    private static void forEachRow(int rowCount, long workPerRow, IntConsumer body) {
        if (rowCount * workPerRow < PARALLEL_WORK || rowCount < 2) {
            for (int r = 0; r < rowCount; r++) {
                body.accept(r);
            }
        } else {
            IntStream.range(0, rowCount).parallel().forEach(body);
        }
    }

    /**
     * Per output pixel: the first input pixel of its window, the window length, and {@code ksize}
     * fixed-point weights (unused tail zero).
     */
    record Coefficients(int ksize, int[] bounds, int[] weights) {

        int start(int out) {
            return bounds[2 * out];
        }

        int length(int out) {
            return bounds[2 * out + 1];
        }

        static Coefficients compute(int inSize, int outSize, ResampleFilter filter) {
            int[] bounds = new int[2 * outSize];
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filter.support() * filterScale;
            long ksizeLong = (long) Math.ceil(support) * 2 + 1;
            if (ksizeLong * outSize > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("resize " + inSize + " -> " + outSize
                        + " needs " + ksizeLong * outSize + " filter weights, more than an array holds");
            }
            int ksize = (int) ksizeLong;
            double[] w = new double[outSize * ksize];
            double invScale = 1.0 / filterScale;
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                // (int) truncates toward zero like C's cast; +0.5 rounds the window edges.
                int xmin = Math.max((int) (center - support + 0.5), 0);
                int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
                double sum = 0.0;
                for (int x = 0; x < xmax; x++) {
                    double v = filter.weight((x + xmin - center + 0.5) * invScale);
                    w[xx * ksize + x] = v;
                    sum += v;
                }
                if (sum != 0.0) {
                    for (int x = 0; x < xmax; x++) {
                        w[xx * ksize + x] /= sum;
                    }
                }
                bounds[2 * xx] = xmin;
                bounds[2 * xx + 1] = xmax;
            }
            int[] fixed = new int[w.length];
            double one = 1 << PRECISION_BITS;
            for (int i = 0; i < w.length; i++) {
                fixed[i] = w[i] < 0 ? (int) (-0.5 + w[i] * one) : (int) (0.5 + w[i] * one);
            }
            return new Coefficients(ksize, bounds, fixed);
        }
    }
}
