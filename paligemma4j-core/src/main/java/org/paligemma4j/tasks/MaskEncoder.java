package org.paligemma4j.tasks;

import java.io.IOException;
import java.nio.file.Path;
import org.paligemma4j.io.NpzFile;

/**
 * The encoder of PaliGemma's mask VQ-VAE (big_vision {@code encode_to_codebook_indices}): a 64x64 mask in
 * [0, 1] becomes the 16 {@code <seg>} tokens a model would write for it, e.g. to build fine-tuning targets.
 *
 * <p>Pipeline: {@code x = 2 (mask - 0.5)} → four 4x4 stride-2 convs with one pixel of zero padding (TF
 * 'SAME' here) + ReLU, 64→32→16→8→4 px → two residual blocks → 1x1 conv 128→512 → for each of the 16 grid
 * cells in row-major order, the nearest codebook row (first one on ties). Arithmetic is float64.
 */
public final class MaskEncoder {

    private static final int SIZE = MaskDecoder.SIZE;
    private static final int GRID = 4;

    private final ConvLayer[] downsample;
    private final ResBlock res0;
    private final ResBlock res1;
    private final ConvLayer output;
    private final double[] codebook;       // [128][512]
    private final double[] codebookNorms;  // |e_k|^2

    private MaskEncoder(VaeCheckpoint ckpt) throws IOException {
        downsample = new ConvLayer[] {
            ckpt.conv("encoder.0", 16, 1, 4),
            ckpt.conv("encoder.2", 32, 16, 4),
            ckpt.conv("encoder.4", 64, 32, 4),
            ckpt.conv("encoder.6", 128, 64, 4),
        };
        res0 = ckpt.resBlock("encoder.8", 128);
        res1 = ckpt.resBlock("encoder.9", 128);
        output = ckpt.conv("encoder.10", VaeCheckpoint.CODE_DIM, 128, 1);
        codebook = ckpt.codebook();
        codebookNorms = new double[VaeCheckpoint.CODEBOOK_SIZE];
        for (int k = 0; k < codebookNorms.length; k++) {
            codebookNorms[k] = dot(codebook, k * VaeCheckpoint.CODE_DIM, codebook, k * VaeCheckpoint.CODE_DIM);
        }
    }

    /** Loads the encoder half of {@code vae-oid.npz}; fails like {@link MaskDecoder#load}. */
    public static MaskEncoder load(Path npz) throws IOException {
        try (NpzFile file = NpzFile.open(npz)) {
            return new MaskEncoder(new VaeCheckpoint(file));
        }
    }

    /** The 16 seg token values of a 64x64 row-major mask with values in [0, 1]. */
    public int[] encode(float[] mask) {
        FeatureMap z = encoderOutput(mask);
        int dim = VaeCheckpoint.CODE_DIM;
        int[] indices = new int[GRID * GRID];
        for (int cell = 0; cell < indices.length; cell++) {
            int zBase = cell * dim;
            double zNorm = dot(z.data(), zBase, z.data(), zBase);
            double best = Double.POSITIVE_INFINITY;
            for (int k = 0; k < VaeCheckpoint.CODEBOOK_SIZE; k++) {
                double d = zNorm + codebookNorms[k] - 2 * dot(z.data(), zBase, codebook, k * dim);
                if (d < best) { // strict: the first minimum wins, like argmin
                    best = d;
                    indices[cell] = k;
                }
            }
        }
        return indices;
    }

    /** The continuous latent before quantisation, 4x4x512 channels last. */
    FeatureMap encoderOutput(float[] mask) {
        if (mask.length != SIZE * SIZE) {
            throw new IllegalArgumentException("the mask encoder takes a 64x64 mask (4096 values), got " + mask.length);
        }
        double[] x = new double[mask.length];
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(mask[i])) throw new IllegalArgumentException("mask value " + i + " is " + mask[i]);
            x[i] = 2.0 * (mask[i] - 0.5);
        }
        FeatureMap h = new FeatureMap(SIZE, SIZE, 1, x);
        for (ConvLayer down : downsample) h = down.conv(h, 2, 1).relu();
        h = res0.apply(h);
        h = res1.apply(h);
        return output.conv(h, 1, 0);
    }

    private static double dot(double[] a, int aBase, double[] b, int bBase) {
        double s = 0;
        for (int i = 0; i < VaeCheckpoint.CODE_DIM; i++) s += a[aBase + i] * b[bBase + i];
        return s;
    }
}
