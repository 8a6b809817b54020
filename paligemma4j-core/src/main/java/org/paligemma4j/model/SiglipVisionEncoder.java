package org.paligemma4j.model;

import static org.paligemma4j.io.WeightNames.vision;
import static org.paligemma4j.io.WeightNames.visionLayer;

import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.VisionConfig;
import org.paligemma4j.tensor.Attention;
import org.paligemma4j.tensor.AttentionMask;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.Ops;
import org.paligemma4j.tensor.ThreadBuffer;
import org.paligemma4j.tensor.WeightFormat;

/**
 * SigLIP's vision tower without its pooling head: 14×14 patches embedded by a strided convolution
 * (computed as one matmul over the unfolded patches), learned position embeddings, pre-LayerNorm
 * transformer blocks (multi-head attention, GELU-tanh MLP), and a final LayerNorm.
 */
final class SiglipVisionEncoder {
    private final VisionConfig config;
    private final Linear patchEmbedding;
    private final float[] positionEmbedding; // [tokens, width]
    private final Block[] blocks;
    private final float[] postNormWeight, postNormBias;

    private record Block(float[] norm1Weight, float[] norm1Bias, Linear q, Linear k, Linear v, Linear out,
                         float[] norm2Weight, float[] norm2Bias, Linear fc1, Linear fc2) {}

    SiglipVisionEncoder(ModelWeights w, VisionConfig config, WeightFormat format) {
        this.config = config;
        patchEmbedding = new Linear(w, vision("embeddings.patch_embedding.weight"), vision("embeddings.patch_embedding.bias"), format);
        positionEmbedding = w.get(vision("embeddings.position_embedding.weight")).toFloatArray();
        blocks = new Block[config.numHiddenLayers()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new Block(
                    w.get(visionLayer(i, "layer_norm1.weight")).toFloatArray(),
                    w.get(visionLayer(i, "layer_norm1.bias")).toFloatArray(),
                    new Linear(w, visionLayer(i, "self_attn.q_proj.weight"), visionLayer(i, "self_attn.q_proj.bias"), format),
                    new Linear(w, visionLayer(i, "self_attn.k_proj.weight"), visionLayer(i, "self_attn.k_proj.bias"), format),
                    new Linear(w, visionLayer(i, "self_attn.v_proj.weight"), visionLayer(i, "self_attn.v_proj.bias"), format),
                    new Linear(w, visionLayer(i, "self_attn.out_proj.weight"), visionLayer(i, "self_attn.out_proj.bias"), format),
                    w.get(visionLayer(i, "layer_norm2.weight")).toFloatArray(),
                    w.get(visionLayer(i, "layer_norm2.bias")).toFloatArray(),
                    new Linear(w, visionLayer(i, "mlp.fc1.weight"), visionLayer(i, "mlp.fc1.bias"), format),
                    new Linear(w, visionLayer(i, "mlp.fc2.weight"), visionLayer(i, "mlp.fc2.bias"), format));
        }
        postNormWeight = w.get(vision("post_layernorm.weight")).toFloatArray();
        postNormBias = w.get(vision("post_layernorm.bias")).toFloatArray();
    }

    /** Applies a LoRA adapter's modules for these layers at inference (null removes them). */
    void attach(LoraAdapter adapter) {
        for (Block b : blocks) {
            for (Linear m : new Linear[] {b.q, b.k, b.v, b.out, b.fc1, b.fc2}) m.attach(adapter);
        }
    }

    /** Every weight matrix, for saving a quantized model. */
    void collectMatrices(java.util.List<FloatMatrix> out) {
        out.add(patchEmbedding.weight);
        for (Block b : blocks) {
            for (Linear m : new Linear[] {b.q, b.k, b.v, b.out, b.fc1, b.fc2}) out.add(m.weight);
        }
    }

    /**
     * The encoder's activations, kept per thread from one image to the next (the hidden state it returns is new each
     * time). Allocated per image, an 896 px image's (190 MB: 4,096 tokens × the MLP's 4,304) were copied by the young
     * collections that ran while they were alive; kept, they are promoted once and reused, as the decoder's are.
     */
    private static final ThreadBuffer NORMED = new ThreadBuffer(), Q = new ThreadBuffer(), K = new ThreadBuffer(),
            V = new ThreadBuffer(), ATTENDED = new ThreadBuffer(), HIDDEN = new ThreadBuffer();

    /** pixel values {@code [channels, size, size]} → last hidden state {@code [tokens, width]}, after the final LayerNorm. */
    float[] encode(float[] pixelValues) {
        int size = config.imageSize(), channels = config.numChannels();
        if (pixelValues.length != channels * size * size) {
            throw new IllegalArgumentException("pixel values hold " + pixelValues.length + " floats; this model needs "
                    + channels + "×" + size + "×" + size);
        }
        int tokens = config.numImageTokens(), width = config.hiddenSize();
        float[] x = new float[tokens * width];
        // Summed in double: 588 columns of pixels per output, a negligible share of the encoder's work, whose
        // float32 sums were the largest rounding error of its features (Float64ErrorTest).
        patchEmbedding.applyInDouble(unfoldPatches(pixelValues, config), tokens, x);
        Ops.add(x, positionEmbedding, x.length);

        float normEps = (float) config.layerNormEps();
        int heads = config.numAttentionHeads(), headDim = config.headDim();
        float scale = (float) Math.pow(headDim, -0.5);
        // Per-thread buffers (see NORMED), overwritten before they are read, and possibly longer than needed.
        float[] normed = NORMED.atLeast(x.length), q = Q.atLeast(x.length), k = K.atLeast(x.length), v = V.atLeast(x.length);
        float[] attended = ATTENDED.atLeast(x.length);
        int hiddenSize = tokens * config.intermediateSize();
        float[] hidden = HIDDEN.atLeast(hiddenSize);
        AttentionMask everyone = AttentionMask.full(tokens);
        for (Block b : blocks) {
            Ops.layerNorm(x, normed, tokens, width, b.norm1Weight, b.norm1Bias, normEps);
            FloatMatrix.matmulAll(normed, tokens, b.q.into(q), b.k.into(k), b.v.into(v));
            b.q.addAdapter(normed, tokens, q);
            b.k.addAdapter(normed, tokens, k);
            b.v.addAdapter(normed, tokens, v);
            Attention.attend(q, tokens, 0, k, v, heads, heads, headDim, scale, 0f, everyone, attended);
            FloatMatrix.matmulAll(attended, tokens, b.out.addedTo(x));
            b.out.addAdapter(attended, tokens, x);

            Ops.layerNorm(x, normed, tokens, width, b.norm2Weight, b.norm2Bias, normEps);
            if (b.fc1.adapted()) { // the adapter's share goes in before the GELU, which the GEMM otherwise applies
                FloatMatrix.matmulAll(normed, tokens, b.fc1.into(hidden));
                b.fc1.addAdapter(normed, tokens, hidden);
                for (int i = 0; i < hiddenSize; i++) hidden[i] = Ops.geluTanh(hidden[i]);
            } else {
                FloatMatrix.matmulAll(normed, tokens, b.fc1.geluInto(hidden));
            }
            FloatMatrix.matmulAll(hidden, tokens, b.fc2.addedTo(x));
            b.fc2.addAdapter(hidden, tokens, x);
        }
        Ops.layerNorm(x, x, tokens, width, postNormWeight, postNormBias, normEps);
        return x;
    }

    /**
     * {@code [C, S, S]} → {@code [patches, C·P·P]}, patches in row-major grid order and each patch in the
     * (channel, row, column) order of the convolution kernel {@code [width, C, P, P]}. Training shares it.
     */
    static float[] unfoldPatches(float[] pixels, VisionConfig config) {
        int size = config.imageSize(), p = config.patchSize(), side = config.patchesPerSide(), channels = config.numChannels();
        int patchLen = config.patchElements();
        float[] out = new float[side * side * patchLen];
        for (int py = 0; py < side; py++) {
            for (int px = 0; px < side; px++) {
                int o = (py * side + px) * patchLen;
                for (int c = 0; c < channels; c++) {
                    for (int ky = 0; ky < p; ky++) {
                        int src = (c * size + py * p + ky) * size + px * p;
                        System.arraycopy(pixels, src, out, o + (c * p + ky) * p, p);
                    }
                }
            }
        }
        return out;
    }
}
