package org.paligemma4j.tasks;

/**
 * Pillow's bilinear resize of a mode-{@code F} (float32) image, reproduced bit for bit, because big_vision
 * scales each decoded 64x64 mask into its box with {@code Image.fromarray(m).resize([w, h], BILINEAR)} and
 * thresholds the result at 0: any rounding difference could flip a pixel.
 *
 * <p>As in Pillow's {@code Resample.c}: separable, horizontal pass first, a pass skipped when that size is
 * unchanged; each pass accumulates in double and stores float32. Filter support grows with the downscale
 * factor, so shrinking averages rather than samples.
 */
final class PilBilinearResize {

    private PilBilinearResize() {}

    /** Resizes a row-major {@code srcW x srcH} image to {@code dstW x dstH}. */
    static float[] resize(float[] src, int srcW, int srcH, int dstW, int dstH) {
        if (srcW <= 0 || srcH <= 0 || dstW <= 0 || dstH <= 0) {
            throw new IllegalArgumentException("resize needs positive sizes, got " + srcW + "x" + srcH
                    + " -> " + dstW + "x" + dstH);
        }
        if (src.length != srcW * srcH) {
            throw new IllegalArgumentException("image of " + srcW + "x" + srcH + " needs " + srcW * srcH
                    + " values, got " + src.length);
        }
        float[] img = src.clone();
        int w = srcW;
        if (dstW != srcW) {
            img = horizontal(img, srcW, srcH, dstW);
            w = dstW;
        }
        if (dstH != srcH) {
            img = vertical(img, w, srcH, dstH);
        }
        return img;
    }

    private static float[] horizontal(float[] src, int srcW, int h, int dstW) {
        Coefficients c = Coefficients.of(srcW, dstW);
        float[] out = new float[dstW * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < dstW; x++) {
                double s = 0.0;
                for (int j = 0; j < c.count[x]; j++) s += src[y * srcW + c.first[x] + j] * c.weight(x, j);
                out[y * dstW + x] = (float) s;
            }
        }
        return out;
    }

    private static float[] vertical(float[] src, int w, int srcH, int dstH) {
        Coefficients c = Coefficients.of(srcH, dstH);
        float[] out = new float[w * dstH];
        for (int y = 0; y < dstH; y++) {
            for (int x = 0; x < w; x++) {
                double s = 0.0;
                for (int j = 0; j < c.count[y]; j++) s += src[(c.first[y] + j) * w + x] * c.weight(y, j);
                out[y * w + x] = (float) s;
            }
        }
        return out;
    }

    /** Pillow's {@code precompute_coeffs} for the triangle filter (support 1) along one axis. */
    private record Coefficients(int[] first, int[] count, double[] weights, int stride) {

        static Coefficients of(int in, int out) {
            double scale = (double) in / out;
            double filterScale = Math.max(scale, 1.0);
            double support = filterScale;
            double inverse = 1.0 / filterScale; // Pillow multiplies by this rather than dividing: bits matter
            int stride = (int) Math.ceil(support) * 2 + 1;
            int[] first = new int[out];
            int[] count = new int[out];
            double[] weights = new double[out * stride];
            for (int i = 0; i < out; i++) {
                double center = (i + 0.5) * scale;
                int lo = Math.max((int) (center - support + 0.5), 0);
                int hi = Math.min((int) (center + support + 0.5), in);
                double sum = 0.0;
                for (int j = lo; j < hi; j++) {
                    double w = triangle((j - center + 0.5) * inverse);
                    weights[i * stride + j - lo] = w;
                    sum += w;
                }
                if (sum != 0.0) {
                    for (int j = lo; j < hi; j++) weights[i * stride + j - lo] /= sum;
                }
                first[i] = lo;
                count[i] = hi - lo;
            }
            return new Coefficients(first, count, weights, stride);
        }

        double weight(int output, int tap) {
            return weights[output * stride + tap];
        }

        private static double triangle(double t) {
            t = Math.abs(t);
            return t < 1.0 ? 1.0 - t : 0.0;
        }
    }
}
