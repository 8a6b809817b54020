package org.paligemma4j.tasks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import org.paligemma4j.io.NpzFile;

/**
 * The decoder of PaliGemma's mask VQ-VAE: 16 {@code <seg>} tokens become a 64x64 map whose positive pixels are
 * the object. Weights come from big_vision's {@code vae-oid.npz}, which users supply.
 *
 * <p>Pipeline (big_vision {@code get_reconstruct_masks}): codebook rows placed on a 4x4 grid (token k at
 * row k/4, column k%4) → 1x1 conv 512→128 + ReLU → two residual blocks → four stride-2 transposed convs
 * 128→128→64→32→16, each + ReLU (4→8→16→32→64 px) → 1x1 conv 16→1. Arithmetic is float64 on the float32
 * weights, which matches the float32 reference within a few 1e-6. Instances are immutable and thread-safe.
 */
public final class MaskDecoder {

    /** Side of the decoded map. */
    public static final int SIZE = 64;
    private static final int GRID = 4;
    private static final int HIDDEN = 128;

    private final double[] codebook; // [128][512]
    private final ConvLayer input;
    private final ResBlock res0;
    private final ResBlock res1;
    private final ConvLayer[] upsample;
    private final ConvLayer output;

    private MaskDecoder(VaeCheckpoint ckpt) throws IOException {
        codebook = ckpt.codebook();
        input = ckpt.conv("decoder.0", HIDDEN, VaeCheckpoint.CODE_DIM, 1);
        res0 = ckpt.resBlock("decoder.2", HIDDEN);
        res1 = ckpt.resBlock("decoder.3", HIDDEN);
        upsample = new ConvLayer[] {
            ckpt.transposedConv("decoder.4", 128, 128, 4),
            ckpt.transposedConv("decoder.6", 128, 64, 4),
            ckpt.transposedConv("decoder.8", 64, 32, 4),
            ckpt.transposedConv("decoder.10", 32, 16, 4),
        };
        output = ckpt.conv("decoder.12", 1, 16, 1);
    }

    /**
     * Loads the decoder half of {@code vae-oid.npz}. Unknown extra arrays are ignored; a missing, non-float or
     * mis-shaped one fails with an {@link IOException} naming the file and the key.
     */
    public static MaskDecoder load(Path npz) throws IOException {
        try (NpzFile file = NpzFile.open(npz)) {
            return new MaskDecoder(new VaeCheckpoint(file));
        }
    }

    /**
     * Decodes 16 seg token values (0..127, output order) into a 64x64 map, row-major ({@code [y * 64 + x]}),
     * before any threshold: pixels {@code > 0} are inside the object.
     *
     * @throws IllegalArgumentException if there are not 16 indices or one is outside 0..127
     */
    public float[] decode(int[] indices) {
        return decodeToDouble(indices, (name, map) -> {}).toFloats();
    }

    /** The float64 pipeline, reporting each named stage (NHWC) to {@code stages} for parity tests. */
    FeatureMap decodeToDouble(int[] indices, BiConsumer<String, FeatureMap> stages) {
        FeatureMap x = quantized(indices);
        stages.accept("quantized", x);
        x = input.conv(x, 1, 0).relu();
        stages.accept("conv0_relu", x);
        x = res0.apply(x);
        stages.accept("resblock0", x);
        x = res1.apply(x);
        stages.accept("resblock1", x);
        for (int i = 0; i < upsample.length; i++) {
            x = upsample[i].transposedConvStride2(x).relu();
            stages.accept("convT" + i + "_relu", x);
        }
        x = output.conv(x, 1, 0);
        stages.accept("mask64", x);
        return x;
    }

    private FeatureMap quantized(int[] indices) {
        if (indices.length != GRID * GRID) {
            throw new IllegalArgumentException("a mask needs " + GRID * GRID + " seg tokens, got " + indices.length);
        }
        int dim = VaeCheckpoint.CODE_DIM;
        FeatureMap q = FeatureMap.zeros(GRID, GRID, dim);
        for (int k = 0; k < indices.length; k++) {
            int idx = indices[k];
            if (idx < 0 || idx >= VaeCheckpoint.CODEBOOK_SIZE) {
                throw new IllegalArgumentException("seg token " + k + " is " + idx + ", outside 0.."
                        + (VaeCheckpoint.CODEBOOK_SIZE - 1));
            }
            // Row-major grid, so token k lands at pixel k (row k/4, column k%4).
            System.arraycopy(codebook, idx * dim, q.data(), k * dim, dim);
        }
        return q;
    }
}
