package org.paligemma4j.tasks;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A square 2-D convolution of the mask VQ-VAE with its bias, computed in float64 on float32 weights.
 * Weights are rearranged once to {@code [ky][kx][in][out]}, so that for one output pixel and one tap a run
 * of output channels is a contiguous vector, accumulated in registers over all input channels. The whole
 * decoder is about 40 M multiply-adds. The vector path (Vector API) and its scalar twin do the same
 * multiplies and adds in the same order (no FMA), so their results are bit-identical.
 */
final class ConvLayer {

    private static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_PREFERRED;
    /** {@code -Dpaligemma.vae.vector=false} runs the scalar twin only (for comparison and debugging). */
    private static final boolean VECTORIZE = Boolean.parseBoolean(System.getProperty("paligemma.vae.vector", "true"));

    final int inChannels;
    final int outChannels;
    final int kernel;
    private final double[] weights; // [ky][kx][in][out]
    private final double[] bias;    // [out]
    private final boolean vectorize;

    private ConvLayer(int inChannels, int outChannels, int kernel, double[] weights, double[] bias, boolean vectorize) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.weights = weights;
        this.bias = bias;
        this.vectorize = vectorize;
    }

    /** The same layer computed by the scalar loop only: the oracle for the vector path. */
    ConvLayer scalarTwin() {
        return new ConvLayer(inChannels, outChannels, kernel, weights, bias, false);
    }

    /** From a PyTorch {@code Conv2d} weight laid out (out, in, kh, kw). */
    static ConvLayer fromConv2d(float[] w, float[] b, int out, int in, int k) {
        double[] t = new double[k * k * in * out];
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                        t[((ky * k + kx) * in + i) * out + o] = w[((o * in + i) * k + ky) * k + kx];
        return new ConvLayer(in, out, k, t, widen(b), VECTORIZE);
    }

    /** From a PyTorch {@code ConvTranspose2d} weight laid out (in, out, kh, kw). */
    static ConvLayer fromConvTranspose2d(float[] w, float[] b, int in, int out, int k) {
        double[] t = new double[k * k * in * out];
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                        t[((ky * k + kx) * in + i) * out + o] = w[((i * out + o) * k + ky) * k + kx];
        return new ConvLayer(in, out, k, t, widen(b), VECTORIZE);
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
        int lanes = SPECIES.length();
        int o = 0;
        if (vectorize) {
            // Four vector accumulators stay in registers across all input channels.
            for (; o + 4 * lanes <= outChannels; o += 4 * lanes) {
                DoubleVector a0 = DoubleVector.fromArray(SPECIES, dst, dstBase + o);
                DoubleVector a1 = DoubleVector.fromArray(SPECIES, dst, dstBase + o + lanes);
                DoubleVector a2 = DoubleVector.fromArray(SPECIES, dst, dstBase + o + 2 * lanes);
                DoubleVector a3 = DoubleVector.fromArray(SPECIES, dst, dstBase + o + 3 * lanes);
                for (int i = 0; i < inChannels; i++) {
                    double v = src[srcBase + i];
                    if (v == 0.0) continue; // after a ReLU about half the inputs are zero
                    DoubleVector vv = DoubleVector.broadcast(SPECIES, v);
                    int w = wBase + i * outChannels + o;
                    a0 = a0.add(vv.mul(DoubleVector.fromArray(SPECIES, weights, w)));
                    a1 = a1.add(vv.mul(DoubleVector.fromArray(SPECIES, weights, w + lanes)));
                    a2 = a2.add(vv.mul(DoubleVector.fromArray(SPECIES, weights, w + 2 * lanes)));
                    a3 = a3.add(vv.mul(DoubleVector.fromArray(SPECIES, weights, w + 3 * lanes)));
                }
                a0.intoArray(dst, dstBase + o);
                a1.intoArray(dst, dstBase + o + lanes);
                a2.intoArray(dst, dstBase + o + 2 * lanes);
                a3.intoArray(dst, dstBase + o + 3 * lanes);
            }
            for (; o + lanes <= outChannels; o += lanes) {
                DoubleVector a = DoubleVector.fromArray(SPECIES, dst, dstBase + o);
                for (int i = 0; i < inChannels; i++) {
                    double v = src[srcBase + i];
                    if (v == 0.0) continue;
                    a = a.add(DoubleVector.broadcast(SPECIES, v)
                            .mul(DoubleVector.fromArray(SPECIES, weights, wBase + i * outChannels + o)));
                }
                a.intoArray(dst, dstBase + o);
            }
        }
        // Scalar twin (and tail): the same products and sums in the same order, so results are bit-identical.
        for (; o < outChannels; o++) {
            double acc = dst[dstBase + o];
            for (int i = 0; i < inChannels; i++) {
                double v = src[srcBase + i];
                if (v == 0.0) continue;
                acc += v * weights[wBase + i * outChannels + o];
            }
            dst[dstBase + o] = acc;
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
