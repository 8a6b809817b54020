package org.paligemma4j.model;

import static org.paligemma4j.io.WeightNames.text;
import static org.paligemma4j.io.WeightNames.textLayer;

import java.util.random.RandomGenerator;
import org.paligemma4j.io.TextConfig;
import org.paligemma4j.tensor.Attention;
import org.paligemma4j.tensor.Backward;
import org.paligemma4j.tensor.Ops;

/**
 * The Gemma / Gemma 2 decoder for training: the forward pass of {@link GemmaDecoder} over one whole
 * sequence (no KV cache), keeping what each layer's backward pass needs, and that backward pass. Each
 * block's forward and backward stand next to each other and use the same kernels and paper concepts
 * ({@link Ops#rmsNorm} as RMSNorm(1+w), {@link Rope}, {@link PrefixLmMask}, the soft cap inside
 * {@link Attention#attend}):
 *
 * <pre>
 *   x += PostAttnNorm?( o( Attention( RoPE(q(n)), RoPE(k(n)), v(n) ) ) )    n = RMSNorm(x)
 *   x += PostFfnNorm?( down( gelu(gate(n')) · up(n') ) )                     n' = RMSNorm(x)
 * </pre>
 */
final class GemmaBackprop {
    private final TextConfig config;
    private final Layer[] layers;
    private final Param finalNorm;
    private final Rope rope;
    private final float eps, scale, attnCap;

    private record Layer(Param inputNorm, TrainableLinear q, TrainableLinear k, TrainableLinear v, TrainableLinear o,
                         Param postAttentionNorm, Param preFeedforwardNorm, Param postFeedforwardNorm,
                         TrainableLinear gate, TrainableLinear up, TrainableLinear down) {
        /** Gemma 1 normalises the MLP input with post_attention_layernorm; Gemma 2 has a dedicated pre-FFN norm. */
        Param mlpInputNorm() {
            return preFeedforwardNorm != null ? preFeedforwardNorm : postAttentionNorm;
        }
    }

    GemmaBackprop(TrainingWeights w, TextConfig config) {
        this.config = config;
        boolean post = config.postNorms();
        layers = new Layer[config.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            boolean bias = config.attentionBias();
            layers[i] = new Layer(
                    w.vector(textLayer(i, "input_layernorm.weight")),
                    w.linear(textLayer(i, "self_attn.q_proj.weight"), bias ? textLayer(i, "self_attn.q_proj.bias") : null),
                    w.linear(textLayer(i, "self_attn.k_proj.weight"), bias ? textLayer(i, "self_attn.k_proj.bias") : null),
                    w.linear(textLayer(i, "self_attn.v_proj.weight"), bias ? textLayer(i, "self_attn.v_proj.bias") : null),
                    w.linear(textLayer(i, "self_attn.o_proj.weight"), bias ? textLayer(i, "self_attn.o_proj.bias") : null),
                    w.vector(textLayer(i, "post_attention_layernorm.weight")),
                    post ? w.vector(textLayer(i, "pre_feedforward_layernorm.weight")) : null,
                    post ? w.vector(textLayer(i, "post_feedforward_layernorm.weight")) : null,
                    w.linear(textLayer(i, "mlp.gate_proj.weight"), null),
                    w.linear(textLayer(i, "mlp.up_proj.weight"), null),
                    w.linear(textLayer(i, "mlp.down_proj.weight"), null));
        }
        finalNorm = w.vector(text("norm.weight"));
        rope = new Rope(config.headDim(), config.ropeTheta());
        eps = (float) config.rmsNormEps();
        scale = (float) Math.pow(config.queryPreAttnScalar(), -0.5);
        attnCap = config.attnLogitSoftcap() == null ? 0f : config.attnLogitSoftcap().floatValue();
    }

    /** One layer's saved activations: its input and every intermediate its backward pass reads. */
    private static final class LayerActivations {
        float[] input, normed, q, k, v, attended, attnOut, afterAttention, mlpNormed, gate, up, activated, mlpOut;
        TrainableLinear.LoraActivation qLora, kLora, vLora, oLora, gateLora, upLora, downLora;
    }

    /** A forward pass kept for its backward: per-layer activations, the RoPE tables and the masks. */
    static final class Activations {
        final int tokens;
        final LayerActivations[] layers;
        final PrefixLmMask[] masks;
        final float[][] cos, sin;
        float[] beforeFinalNorm;

        private Activations(int tokens, int layerCount, int headDim) {
            this.tokens = tokens;
            layers = new LayerActivations[layerCount];
            masks = new PrefixLmMask[layerCount];
            cos = new float[tokens][headDim];
            sin = new float[tokens][headDim];
        }
    }

    /**
     * Runs input embeddings {@code x [tokens, hidden]} (already × √hidden) through every layer under the
     * prefix-LM training mask. Returns the activations; {@code out} receives the final-normed hidden states.
     */
    Activations forward(float[] x, int tokens, int prefixLength, SlidingWindowSemantics semantics, RandomGenerator dropout,
                        float[] out) {
        int hidden = config.hiddenSize(), headDim = config.headDim();
        int heads = config.numAttentionHeads(), kvHeads = config.numKeyValueHeads();
        int inter = config.intermediateSize();
        Activations acts = new Activations(tokens, layers.length, headDim);
        for (int t = 0; t < tokens; t++) rope.tables(t, acts.cos[t], acts.sin[t]);
        float[] h = x.clone();
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            LayerActivations a = acts.layers[l] = new LayerActivations();
            a.input = h.clone();
            a.normed = new float[tokens * hidden];
            Ops.rmsNorm(h, a.normed, tokens, hidden, layer.inputNorm.value(), eps);
            a.q = new float[tokens * heads * headDim];
            a.k = new float[tokens * kvHeads * headDim];
            a.v = new float[tokens * kvHeads * headDim];
            a.qLora = layer.q.forward(a.normed, tokens, a.q, dropout);
            a.kLora = layer.k.forward(a.normed, tokens, a.k, dropout);
            a.vLora = layer.v.forward(a.normed, tokens, a.v, dropout);
            for (int t = 0; t < tokens; t++) {
                rope.apply(a.q, t * heads * headDim, heads, t, acts.cos[t], acts.sin[t]);
                rope.apply(a.k, t * kvHeads * headDim, kvHeads, t, acts.cos[t], acts.sin[t]);
            }
            PrefixLmMask mask = acts.masks[l] = PrefixLmMask.forLayer(prefixLength, config.isSlidingWindowLayer(l),
                    config.slidingWindow(), semantics);
            a.attended = new float[a.q.length];
            Attention.attend(a.q, tokens, 0, a.k, a.v, heads, kvHeads, headDim, scale, attnCap, mask, a.attended);
            a.attnOut = new float[tokens * hidden];
            a.oLora = layer.o.forward(a.attended, tokens, a.attnOut, dropout);
            float[] branch = a.attnOut;
            if (layer.postAttentionNorm != null && config.postNorms()) {
                branch = new float[tokens * hidden];
                Ops.rmsNorm(a.attnOut, branch, tokens, hidden, layer.postAttentionNorm.value(), eps);
            }
            Ops.add(h, branch, tokens * hidden);
            a.afterAttention = h.clone();

            a.mlpNormed = new float[tokens * hidden];
            Ops.rmsNorm(h, a.mlpNormed, tokens, hidden, layer.mlpInputNorm().value(), eps);
            a.gate = new float[tokens * inter];
            a.up = new float[tokens * inter];
            a.gateLora = layer.gate.forward(a.mlpNormed, tokens, a.gate, dropout);
            a.upLora = layer.up.forward(a.mlpNormed, tokens, a.up, dropout);
            a.activated = a.gate.clone();
            Ops.geglu(a.activated, a.up, a.activated.length);
            a.mlpOut = new float[tokens * hidden];
            a.downLora = layer.down.forward(a.activated, tokens, a.mlpOut, dropout);
            branch = a.mlpOut;
            if (config.postNorms()) {
                branch = new float[tokens * hidden];
                Ops.rmsNorm(a.mlpOut, branch, tokens, hidden, layer.postFeedforwardNorm.value(), eps);
            }
            Ops.add(h, branch, tokens * hidden);
        }
        acts.beforeFinalNorm = h;
        Ops.rmsNorm(h, out, tokens, hidden, finalNorm.value(), eps);
        return acts;
    }

    /**
     * Backward of {@link #forward}: from the gradient of the final-normed hidden states, accumulates every
     * trained parameter's gradient (into {@code grads}) and returns the gradient of the input embeddings {@code [tokens, hidden]}.
     */
    float[] backward(Activations acts, float[] dOut, Gradients grads) {
        int tokens = acts.tokens;
        int hidden = config.hiddenSize(), headDim = config.headDim();
        int heads = config.numAttentionHeads(), kvHeads = config.numKeyValueHeads();
        int inter = config.intermediateSize();
        float[] dh = new float[tokens * hidden];
        Backward.rmsNormBackward(acts.beforeFinalNorm, dOut, tokens, hidden, finalNorm.value(), eps, dh, grads.of(finalNorm));
        for (int l = layers.length - 1; l >= 0; l--) {
            Layer layer = layers[l];
            LayerActivations a = acts.layers[l];
            // MLP branch: dh flows unchanged through the residual and into the branch.
            float[] dMlpOut = dh;
            if (config.postNorms()) {
                dMlpOut = new float[tokens * hidden];
                Backward.rmsNormBackward(a.mlpOut, dh, tokens, hidden, layer.postFeedforwardNorm.value(), eps, dMlpOut,
                        grads.of(layer.postFeedforwardNorm));
            }
            float[] dActivated = new float[tokens * inter];
            layer.down.backward(a.activated, a.downLora, dMlpOut, tokens, dActivated, grads);
            float[] dGate = new float[tokens * inter], dUp = new float[tokens * inter];
            Backward.gegluBackward(a.gate, a.up, dActivated, dActivated.length, dGate, dUp);
            float[] dMlpNormed = new float[tokens * hidden];
            layer.gate.backward(a.mlpNormed, a.gateLora, dGate, tokens, dMlpNormed, grads);
            layer.up.backward(a.mlpNormed, a.upLora, dUp, tokens, dMlpNormed, grads);
            Backward.rmsNormBackward(a.afterAttention, dMlpNormed, tokens, hidden, layer.mlpInputNorm().value(), eps, dh,
                    grads.of(layer.mlpInputNorm()));

            // Attention branch.
            float[] dAttnOut = dh;
            if (config.postNorms()) {
                dAttnOut = new float[tokens * hidden];
                Backward.rmsNormBackward(a.attnOut, dh, tokens, hidden, layer.postAttentionNorm.value(), eps, dAttnOut,
                        grads.of(layer.postAttentionNorm));
            }
            float[] dAttended = new float[a.attended.length];
            layer.o.backward(a.attended, a.oLora, dAttnOut, tokens, dAttended, grads);
            float[] dq = new float[a.q.length], dk = new float[a.k.length], dv = new float[a.v.length];
            Backward.attentionBackward(a.q, a.k, a.v, dAttended, tokens, heads, kvHeads, headDim, scale, attnCap,
                    acts.masks[l], dq, dk, dv);
            for (int t = 0; t < tokens; t++) {
                rope.backward(dq, t * heads * headDim, heads, acts.cos[t], acts.sin[t]);
                rope.backward(dk, t * kvHeads * headDim, kvHeads, acts.cos[t], acts.sin[t]);
            }
            float[] dNormed = new float[tokens * hidden];
            layer.q.backward(a.normed, a.qLora, dq, tokens, dNormed, grads);
            layer.k.backward(a.normed, a.kLora, dk, tokens, dNormed, grads);
            layer.v.backward(a.normed, a.vLora, dv, tokens, dNormed, grads);
            Backward.rmsNormBackward(a.input, dNormed, tokens, hidden, layer.inputNorm.value(), eps, dh, grads.of(layer.inputNorm));
        }
        return dh;
    }
}
