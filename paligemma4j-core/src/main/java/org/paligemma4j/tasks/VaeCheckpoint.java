package org.paligemma4j.tasks;

import java.io.IOException;
import java.util.Arrays;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.io.NpzFile;

/**
 * Reads layers of big_vision's mask VQ-VAE ({@code vae-oid.npz}: a PyTorch state dict saved with
 * {@code numpy.savez}) by their state-dict keys. Every array is checked for presence, float dtype and exact
 * shape, so that a wrong file fails here with its key named instead of producing garbage masks.
 */
final class VaeCheckpoint {

    /** Rows of the codebook: one per {@code <segNNN>} token. */
    static final int CODEBOOK_SIZE = 128;
    /** Width of a codebook vector (the VQ-VAE's latent channels). */
    static final int CODE_DIM = 512;
    static final String CODEBOOK_KEY = "_vq_vae._embedding";

    private final NpzFile npz;

    VaeCheckpoint(NpzFile npz) {
        this.npz = npz;
    }

    /** {@code name.weight} (out, in, k, k) and {@code name.bias} (out) of a {@code Conv2d}. */
    ConvLayer conv(String name, int out, int in, int k) throws IOException {
        float[] w = floats(name + ".weight", out, in, k, k);
        return ConvLayer.fromConv2d(w, floats(name + ".bias", out), out, in, k);
    }

    /** {@code name.weight} (in, out, k, k) and {@code name.bias} (out) of a {@code ConvTranspose2d}. */
    ConvLayer transposedConv(String name, int in, int out, int k) throws IOException {
        float[] w = floats(name + ".weight", in, out, k, k);
        return ConvLayer.fromConvTranspose2d(w, floats(name + ".bias", out), in, out, k);
    }

    /** The residual block stored as {@code name.net.0}, {@code .2} (3x3) and {@code .4} (1x1). */
    ResBlock resBlock(String name, int channels) throws IOException {
        return new ResBlock(conv(name + ".net.0", channels, channels, 3), conv(name + ".net.2", channels, channels, 3),
                conv(name + ".net.4", channels, channels, 1));
    }

    /** The codebook, row-major (128, 512). */
    double[] codebook() throws IOException {
        float[] f = floats(CODEBOOK_KEY, CODEBOOK_SIZE, CODE_DIM);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private float[] floats(String key, long... shape) throws IOException {
        if (!npz.contains(key)) {
            throw new IOException(npz.path() + ": missing array '" + key + "' (not a vae-oid.npz mask VQ-VAE?)");
        }
        NpyArray a = npz.get(key);
        if (!a.dtype().equals("<f4") && !a.dtype().equals("<f8")) {
            throw new IOException(npz.path() + ": array '" + key + "' has dtype " + a.dtype() + ", expected float32");
        }
        if (!Arrays.equals(a.shape(), shape)) {
            throw new IOException(npz.path() + ": array '" + key + "' has shape " + Arrays.toString(a.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        return a.toFloatArray();
    }
}
