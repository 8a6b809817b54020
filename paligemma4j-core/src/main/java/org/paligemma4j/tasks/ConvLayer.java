package org.paligemma4j.tasks;

/**
 * A square 2-D convolution of the mask VQ-VAE with its bias, computed in float64 on float32 weights.
 * Weights are rearranged once to {@code [ky][kx][in][out]} so that the innermost loop runs over output
 * channels on contiguous memory (the JIT vectorises it); the whole decoder is about 40 M multiply-adds.
 */
final class ConvLayer {

    final int inChannels;
    final int outChannels;
    final int kernel;
    private final double[] weights; // [ky][kx][in][out]
    private final double[] bias;    // [out]

    private ConvLayer(int inChannels, int outChannels, int kernel, double[] weights, double[] bias) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.weights = weights;
        this.bias = bias;
    }

    /** From a PyTorch {@code Conv2d} weight laid out (out, in, kh, kw). */
    static ConvLayer fromConv2d(float[] w, float[] b, int out, int in, int k) {
        double[] t = new double[k * k * in * out];
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                        t[((ky * k + kx) * in + i) * out + o] = w[((o * in + i) * k + ky) * k + kx];
        return new ConvLayer(in, out, k, t, widen(b));
    }

    /** From a PyTorch {@code ConvTranspose2d} weight laid out (in, out, kh, kw). */
    static ConvLayer fromConvTranspose2d(float[] w, float[] b, int in, int out, int k) {
        double[] t = new double[k * k * in * out];
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                        t[((ky * k + kx) * in + i) * out + o] = w[((i * out + o) * k + ky) * k + kx];
        return new ConvLayer(in, out, k, t, widen(b));
    }

    private static double[] widen(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i];
        return out;
    }

    /** Cross-correlation (no kernel flip) with zero padding {@code pad} on every side. */
    FeatureMap conv(FeatureMap in, int stride, int pad) {
        checkInput(in);
        int oh = (in.height() + 2 * pad - kernel) / stride + 1;
        int ow = (in.width() + 2 * pad - kernel) / stride + 1;
        FeatureMap out = withBias(oh, ow);
        double[] src = in.data();
        double[] dst = out.data();
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int dstBase = (oy * ow + ox) * outChannels;
                for (int ky = 0; ky < kernel; ky++) {
                    int iy = oy * stride - pad + ky;
                    if (iy < 0 || iy >= in.height()) continue;
                    for (int kx = 0; kx < kernel; kx++) {
                        int ix = ox * stride - pad + kx;
                        if (ix < 0 || ix >= in.width()) continue;
                        accumulate(src, (iy * in.width() + ix) * inChannels, ky * kernel + kx, dst, dstBase);
                    }
                }
            }
        }
        return out;
    }

    /**
     * PyTorch {@code ConvTranspose2d(stride=2, padding=1)} with a 4x4 kernel, which doubles height and width:
     * input pixel (y, x) contributes through tap (a, b) to output (2y - 1 + a, 2x - 1 + b). This equals
     * big_vision's Flax {@code ConvTranspose(strides=2, padding=2, transpose_kernel=True)}.
     */
    FeatureMap transposedConvStride2(FeatureMap in) {
        checkInput(in);
        int oh = in.height() * 2;
        int ow = in.width() * 2;
        FeatureMap out = withBias(oh, ow);
        double[] src = in.data();
        double[] dst = out.data();
        for (int y = 0; y < in.height(); y++) {
            for (int x = 0; x < in.width(); x++) {
                int srcBase = (y * in.width() + x) * inChannels;
                for (int a = 0; a < kernel; a++) {
                    int oy = 2 * y - 1 + a;
                    if (oy < 0 || oy >= oh) continue;
                    for (int b = 0; b < kernel; b++) {
                        int ox = 2 * x - 1 + b;
                        if (ox < 0 || ox >= ow) continue;
                        accumulate(src, srcBase, a * kernel + b, dst, (oy * ow + ox) * outChannels);
                    }
                }
            }
        }
        return out;
    }

    /** {@code dst[dstBase + o] += sum_i src[srcBase + i] * W[tap][i][o]}: where the time goes. */
    private void accumulate(double[] src, int srcBase, int tap, double[] dst, int dstBase) {
        int wBase = tap * inChannels * outChannels;
        for (int i = 0; i < inChannels; i++) {
            double v = src[srcBase + i];
            if (v == 0.0) continue; // after a ReLU about half the inputs are zero
            int w = wBase + i * outChannels;
            for (int o = 0; o < outChannels; o++) {
                dst[dstBase + o] += v * weights[w + o];
            }
        }
    }

    private FeatureMap withBias(int h, int w) {
        FeatureMap out = FeatureMap.zeros(h, w, outChannels);
        double[] d = out.data();
        for (int p = 0; p < h * w; p++) System.arraycopy(bias, 0, d, p * outChannels, outChannels);
        return out;
    }

    private void checkInput(FeatureMap in) {
        if (in.channels() != inChannels) {
            throw new IllegalArgumentException("layer takes " + inChannels + " channels, got " + in.channels());
        }
    }
}
