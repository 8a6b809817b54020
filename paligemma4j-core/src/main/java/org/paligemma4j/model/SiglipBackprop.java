package org.paligemma4j.model;

import static org.paligemma4j.io.WeightNames.vision;
import static org.paligemma4j.io.WeightNames.visionLayer;

import org.paligemma4j.io.VisionConfig;
import org.paligemma4j.tensor.Attention;
import org.paligemma4j.tensor.AttentionMask;
import org.paligemma4j.tensor.Backward;
import org.paligemma4j.tensor.Ops;

/**
 * SigLIP's vision tower for training: the forward pass of {@link SiglipVisionEncoder}, keeping each
 * block's activations, and its backward pass beside it:
 *
 * <pre>
 *   x = PatchEmbed(pixels) + pos
 *   x += out( Attention( q(n), k(n), v(n) ) )     n = LayerNorm1(x)
 *   x += fc2( gelu(fc1(n')) )                     n' = LayerNorm2(x)
 *   features = PostLayerNorm(x)
 * </pre>
 */
final class SiglipBackprop {
    private final VisionConfig config;
    private final TrainableLinear patchEmbedding;
    private final Param positionEmbedding;
    private final Block[] blocks;
    private final Param postNormWeight, postNormBias;
    private final float eps, scale;

    private record Block(Param norm1Weight, Param norm1Bias, TrainableLinear q, TrainableLinear k, TrainableLinear v,
                         TrainableLinear out, Param norm2Weight, Param norm2Bias, TrainableLinear fc1, TrainableLinear fc2) {}

    SiglipBackprop(TrainingWeights w, VisionConfig config) {
        this.config = config;
        patchEmbedding = w.linear(vision("embeddings.patch_embedding.weight"), vision("embeddings.patch_embedding.bias"));
        positionEmbedding = w.vector(vision("embeddings.position_embedding.weight"));
        blocks = new Block[config.numHiddenLayers()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new Block(
                    w.vector(visionLayer(i, "layer_norm1.weight")), w.vector(visionLayer(i, "layer_norm1.bias")),
                    w.linear(visionLayer(i, "self_attn.q_proj.weight"), visionLayer(i, "self_attn.q_proj.bias")),
                    w.linear(visionLayer(i, "self_attn.k_proj.weight"), visionLayer(i, "self_attn.k_proj.bias")),
                    w.linear(visionLayer(i, "self_attn.v_proj.weight"), visionLayer(i, "self_attn.v_proj.bias")),
                    w.linear(visionLayer(i, "self_attn.out_proj.weight"), visionLayer(i, "self_attn.out_proj.bias")),
                    w.vector(visionLayer(i, "layer_norm2.weight")), w.vector(visionLayer(i, "layer_norm2.bias")),
                    w.linear(visionLayer(i, "mlp.fc1.weight"), visionLayer(i, "mlp.fc1.bias")),
                    w.linear(visionLayer(i, "mlp.fc2.weight"), visionLayer(i, "mlp.fc2.bias")));
        }
        postNormWeight = w.vector(vision("post_layernorm.weight"));
        postNormBias = w.vector(vision("post_layernorm.bias"));
        eps = (float) config.layerNormEps();
        scale = (float) Math.pow(config.headDim(), -0.5);
        keepActivations = anyTrainable();
    }

    /** A frozen tower (LoRA on the decoder, or --train without vision) keeps nothing for a backward pass. */
    private final boolean keepActivations;

    private static final class BlockActivations {
        float[] input, normed, q, k, v, attended, afterAttention, mlpNormed, fc1Out, activated;
        TrainableLinear.LoraActivation qLora, kLora, vLora, outLora, fc1Lora, fc2Lora;
    }

    /** A forward pass kept for its backward. */
    static final class Activations {
        float[] patches, beforePostNorm;
        BlockActivations[] blocks;
        TrainableLinear.LoraActivation patchLora;
    }

    /** pixel values {@code [3, S, S]} → features {@code [tokens, width]} after the post-LayerNorm, into {@code out}. */
    Activations forward(float[] pixelValues, java.util.random.RandomGenerator dropout, float[] out) {
        int tokens = config.numImageTokens(), width = config.hiddenSize(), inter = config.intermediateSize();
        int heads = config.numAttentionHeads(), headDim = config.headDim();
        Activations acts = new Activations();
        acts.patches = SiglipVisionEncoder.unfoldPatches(pixelValues, config);
        float[] x = new float[tokens * width];
        acts.patchLora = patchEmbedding.forward(acts.patches, tokens, x, dropout);
        Ops.add(x, positionEmbedding.value(), x.length);
        AttentionMask everyone = AttentionMask.full(tokens);
        acts.blocks = new BlockActivations[blocks.length];
        for (int i = 0; i < blocks.length; i++) {
            Block b = blocks[i];
            BlockActivations a = new BlockActivations();
            if (keepActivations) acts.blocks[i] = a;
            a.input = x.clone();
            a.normed = new float[x.length];
            Ops.layerNorm(x, a.normed, tokens, width, b.norm1Weight.value(), b.norm1Bias.value(), eps);
            a.q = new float[x.length];
            a.k = new float[x.length];
            a.v = new float[x.length];
            a.qLora = b.q.forward(a.normed, tokens, a.q, dropout);
            a.kLora = b.k.forward(a.normed, tokens, a.k, dropout);
            a.vLora = b.v.forward(a.normed, tokens, a.v, dropout);
            a.attended = new float[x.length];
            Attention.attend(a.q, tokens, 0, a.k, a.v, heads, heads, headDim, scale, 0f, everyone, a.attended);
            float[] projected = new float[x.length];
            a.outLora = b.out.forward(a.attended, tokens, projected, dropout);
            Ops.add(x, projected, x.length);
            a.afterAttention = x.clone();

            a.mlpNormed = new float[x.length];
            Ops.layerNorm(x, a.mlpNormed, tokens, width, b.norm2Weight.value(), b.norm2Bias.value(), eps);
            a.fc1Out = new float[tokens * inter];
            a.fc1Lora = b.fc1.forward(a.mlpNormed, tokens, a.fc1Out, dropout);
            a.activated = new float[a.fc1Out.length];
            for (int j = 0; j < a.activated.length; j++) a.activated[j] = Ops.geluTanh(a.fc1Out[j]);
            float[] mlpOut = new float[x.length];
            a.fc2Lora = b.fc2.forward(a.activated, tokens, mlpOut, dropout);
            Ops.add(x, mlpOut, x.length);
        }
        acts.beforePostNorm = x;
        Ops.layerNorm(x, out, tokens, width, postNormWeight.value(), postNormBias.value(), eps);
        return acts;
    }

    /** Backward of {@link #forward} from the gradient of the features; accumulates every trained parameter's gradient into {@code grads}. */
    void backward(Activations acts, float[] dOut, Gradients grads) {
        int tokens = config.numImageTokens(), width = config.hiddenSize(), inter = config.intermediateSize();
        int heads = config.numAttentionHeads(), headDim = config.headDim();
        AttentionMask everyone = AttentionMask.full(tokens);
        float[] dx = new float[tokens * width];
        Backward.layerNormBackward(acts.beforePostNorm, dOut, tokens, width, postNormWeight.value(), eps, dx,
                grads.of(postNormWeight), grads.of(postNormBias));
        for (int i = blocks.length - 1; i >= 0; i--) {
            Block b = blocks[i];
            BlockActivations a = acts.blocks[i];
            float[] dActivated = new float[tokens * inter];
            b.fc2.backward(a.activated, a.fc2Lora, dx, tokens, dActivated, grads);
            float[] dFc1 = new float[dActivated.length];
            Backward.geluTanhBackward(a.fc1Out, dActivated, dActivated.length, dFc1);
            float[] dMlpNormed = new float[dx.length];
            b.fc1.backward(a.mlpNormed, a.fc1Lora, dFc1, tokens, dMlpNormed, grads);
            Backward.layerNormBackward(a.afterAttention, dMlpNormed, tokens, width, b.norm2Weight.value(), eps, dx,
                    grads.of(b.norm2Weight), grads.of(b.norm2Bias));

            float[] dAttended = new float[dx.length];
            b.out.backward(a.attended, a.outLora, dx, tokens, dAttended, grads);
            float[] dq = new float[dx.length], dk = new float[dx.length], dv = new float[dx.length];
            Backward.attentionBackward(a.q, a.k, a.v, dAttended, tokens, heads, heads, headDim, scale, 0f, everyone, dq, dk, dv);
            float[] dNormed = new float[dx.length];
            b.q.backward(a.normed, a.qLora, dq, tokens, dNormed, grads);
            b.k.backward(a.normed, a.kLora, dk, tokens, dNormed, grads);
            b.v.backward(a.normed, a.vLora, dv, tokens, dNormed, grads);
            Backward.layerNormBackward(a.input, dNormed, tokens, width, b.norm1Weight.value(), eps, dx,
                    grads.of(b.norm1Weight), grads.of(b.norm1Bias));
        }
        if (positionEmbedding.trainable()) Ops.add(grads.of(positionEmbedding), dx, dx.length);
        patchEmbedding.backward(acts.patches, acts.patchLora, dx, tokens, null, grads);
    }

    /** Whether any part of the tower is trained (else its activations need not be kept). */
    boolean anyTrainable() {
        if (positionEmbedding.trainable() || postNormWeight.trainable() || postNormBias.trainable()) return true;
        if (patchEmbedding.weightParam != null || patchEmbedding.lora != null) return true;
        for (Block b : blocks) {
            for (TrainableLinear l : new TrainableLinear[] {b.q, b.k, b.v, b.out, b.fc1, b.fc2}) {
                if (l.weightParam != null || l.lora != null || (l.bias != null && l.bias.trainable())) return true;
            }
            if (b.norm1Weight.trainable() || b.norm1Bias.trainable() || b.norm2Weight.trainable() || b.norm2Bias.trainable()) return true;
        }
        return false;
    }
}
