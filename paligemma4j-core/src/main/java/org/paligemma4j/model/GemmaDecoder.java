package org.paligemma4j.model;

import static org.paligemma4j.io.WeightNames.text;
import static org.paligemma4j.io.WeightNames.textLayer;

import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.TextConfig;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.Ops;
import org.paligemma4j.tensor.ThreadBuffer;
import org.paligemma4j.tensor.WeightFormat;

/**
 * The Gemma decoder, version 1 or 2 from one code path: the config says whether a layer has Gemma 2's
 * extra norms, a sliding window, and soft caps. Every block is
 *
 * <pre>
 *   x += PostAttnNorm?( Attention( RMSNorm(x) ) )      (Gemma 2 normalises the attention output too)
 *   x += PostFfnNorm?( GeGLU-MLP( RMSNorm(x) ) )
 * </pre>
 *
 * with RMSNorm(1+w), RoPE on queries and keys, grouped key/value heads, queries scaled by
 * {@code 1/sqrt(query_pre_attn_scalar)}, and (Gemma 2) attention-logit soft-capping. The tied embedding
 * matrix is the LM head; Gemma 2 soft-caps the final logits.
 */
final class GemmaDecoder {
    private final TextConfig config;
    private final FloatMatrix embedding; // [vocab, hidden], also the LM head
    private final Layer[] layers;
    private final float[] finalNorm;
    private final Rope rope;
    /** Every input embedding is multiplied by sqrt(hidden), rounded to float32 as the reference does. */
    final float embedScale;

    private record Layer(float[] inputNorm, Linear q, Linear k, Linear v, Linear o, float[] postAttentionNorm,
                         float[] preFeedforwardNorm, float[] postFeedforwardNorm, Linear gate, Linear up, Linear down) {}

    GemmaDecoder(ModelWeights w, TextConfig config, WeightFormat format) {
        this.config = config;
        embedding = Linear.matrix(w, text("embed_tokens.weight"), QuantizationRecipe.embedding(format));
        WeightFormat keysAndValues = QuantizationRecipe.keysAndValues(format);
        layers = new Layer[config.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            boolean post = config.postNorms();
            String bias = config.attentionBias() ? ".bias" : null;
            layers[i] = new Layer(
                    w.get(textLayer(i, "input_layernorm.weight")).toFloatArray(),
                    new Linear(w, textLayer(i, "self_attn.q_proj.weight"), bias == null ? null : textLayer(i, "self_attn.q_proj.bias"), format),
                    new Linear(w, textLayer(i, "self_attn.k_proj.weight"), bias == null ? null : textLayer(i, "self_attn.k_proj.bias"), keysAndValues),
                    new Linear(w, textLayer(i, "self_attn.v_proj.weight"), bias == null ? null : textLayer(i, "self_attn.v_proj.bias"), keysAndValues),
                    new Linear(w, textLayer(i, "self_attn.o_proj.weight"), bias == null ? null : textLayer(i, "self_attn.o_proj.bias"), format),
                    w.get(textLayer(i, "post_attention_layernorm.weight")).toFloatArray(),
                    post ? w.get(textLayer(i, "pre_feedforward_layernorm.weight")).toFloatArray() : null,
                    post ? w.get(textLayer(i, "post_feedforward_layernorm.weight")).toFloatArray() : null,
                    new Linear(w, textLayer(i, "mlp.gate_proj.weight"), null, format),
                    new Linear(w, textLayer(i, "mlp.up_proj.weight"), null, format),
                    new Linear(w, textLayer(i, "mlp.down_proj.weight"), null, format));
        }
        finalNorm = w.get(text("norm.weight")).toFloatArray();
        rope = new Rope(config.headDim(), config.ropeTheta());
        embedScale = (float) Math.sqrt(config.hiddenSize());
    }

    TextConfig config() {
        return config;
    }

    /** Writes the scaled embedding of token {@code id} into {@code out[offset…]}. */
    void embed(int id, float[] out, int offset) {
        if (id < 0 || id >= embedding.rows()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + embedding.rows());
        }
        embedding.row(id, out, offset);
        for (int i = 0; i < config.hiddenSize(); i++) out[offset + i] *= embedScale;
    }

    /** Receives each layer's output during a forward pass (for parity dumps); may be null. */
    interface LayerSink {
        void layerOutput(int layer, float[] hidden, int tokens);
    }

    /**
     * A prefill's activations, kept per thread from one call to the next. Allocated per call, a 4,100-token
     * prefill's (0.5 GB at 896 px, 0.13 GB at 448) were copied by the young collections that ran while they were
     * alive, each copying almost everything (448 px, `-Xlog:gc`: pauses of 100–420 ms that freed nothing).
     * Kept, they are promoted once and reused.
     */
    private static final ThreadBuffer NORMED = new ThreadBuffer(), Q = new ThreadBuffer(), K = new ThreadBuffer(),
            V = new ThreadBuffer(), ATTENDED = new ThreadBuffer(), PROJECTED = new ThreadBuffer(), GATE = new ThreadBuffer(),
            UP = new ThreadBuffer();

    /**
     * Runs {@code tokens} input embeddings {@code x [tokens, hidden]} at positions
     * {@code cache.length() …} through every layer, appending their keys and values to the cache.
     * On return {@code x} holds the final-normed hidden states.
     */
    void forward(float[] x, int tokens, KvCache cache, int prefixLength, SlidingWindowSemantics semantics, LayerSink sink) {
        if (cache.shared != null) throw new IllegalArgumentException("a cache that shares a prompt takes one token per step");
        cache.ensureRoom(tokens);
        int hidden = config.hiddenSize(), headDim = config.headDim();
        int heads = config.numAttentionHeads(), kvHeads = config.numKeyValueHeads();
        int start = cache.length();
        float eps = (float) config.rmsNormEps();
        float scale = (float) Math.pow(config.queryPreAttnScalar(), -0.5);
        float attnCap = config.attnLogitSoftcap() == null ? 0f : config.attnLogitSoftcap().floatValue();

        // Every buffer below is overwritten before it is read; they may be longer than this call needs.
        float[] normed = NORMED.atLeast(tokens * hidden);
        float[] q = Q.atLeast(tokens * heads * headDim);
        float[] k = K.atLeast(tokens * kvHeads * headDim);
        float[] v = V.atLeast(tokens * kvHeads * headDim);
        float[] attended = ATTENDED.atLeast(tokens * heads * headDim);
        float[] projected = PROJECTED.atLeast(tokens * hidden);
        int inner = tokens * config.intermediateSize();
        float[] gate = GATE.atLeast(inner);
        float[] up = UP.atLeast(inner);
        float[][] cos = new float[tokens][headDim], sin = new float[tokens][headDim];
        for (int t = 0; t < tokens; t++) rope.tables(start + t, cos[t], sin[t]);

        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            Ops.rmsNorm(x, normed, tokens, hidden, layer.inputNorm, eps);
            FloatMatrix.matmulAll(normed, tokens, layer.q.into(q), layer.k.into(k), layer.v.into(v));
            layer.q.addAdapter(normed, tokens, q);
            layer.k.addAdapter(normed, tokens, k);
            layer.v.addAdapter(normed, tokens, v);
            for (int t = 0; t < tokens; t++) {
                rope.apply(q, t * heads * headDim, heads, start + t, cos[t], sin[t]);
                rope.apply(k, t * kvHeads * headDim, kvHeads, start + t, cos[t], sin[t]);
            }
            cache.store(l, start, tokens, k, 0, v, 0);
            PrefixLmMask mask = PrefixLmMask.forLayer(prefixLength, config.isSlidingWindowLayer(l), config.slidingWindow(), semantics);
            cache.attend(l, q, tokens, start, heads, kvHeads, headDim, scale, attnCap, mask, attended);
            layer.o.apply(attended, tokens, projected);
            layer.o.addAdapter(attended, tokens, projected);
            if (config.postNorms()) Ops.rmsNorm(projected, projected, tokens, hidden, layer.postAttentionNorm, eps);
            Ops.add(x, projected, tokens * hidden);

            // Gemma 1 normalises the MLP input with post_attention_layernorm; Gemma 2 has a dedicated pre-FFN norm.
            Ops.rmsNorm(x, normed, tokens, hidden, config.postNorms() ? layer.preFeedforwardNorm : layer.postAttentionNorm, eps);
            FloatMatrix.matmulAll(normed, tokens, layer.gate.into(gate), layer.up.into(up));
            layer.gate.addAdapter(normed, tokens, gate);
            layer.up.addAdapter(normed, tokens, up);
            Ops.geglu(gate, up, inner);
            layer.down.apply(gate, tokens, projected);
            layer.down.addAdapter(gate, tokens, projected);
            if (config.postNorms()) Ops.rmsNorm(projected, projected, tokens, hidden, layer.postFeedforwardNorm, eps);
            Ops.add(x, projected, tokens * hidden);
            if (sink != null && l < layers.length - 1) sink.layerOutput(l, x, tokens);
        }
        Ops.rmsNorm(x, x, tokens, hidden, finalNorm, eps);
        if (sink != null) sink.layerOutput(layers.length - 1, x, tokens);
        cache.advance(tokens);
    }

    /**
     * One decode step for several sequences at once: row t of {@code x [rows, hidden]} is the next input
     * embedding of the sequence whose cache is {@code caches[t]}, at that cache's next position. The weight
     * products run over all rows together (each weight read once per step) and each row's arithmetic is
     * exactly that of {@link #forward} with one token, so a sequence's results do not depend on its batch;
     * attention reads each sequence's own cache. On return {@code x} holds the final-normed hidden states.
     */
    void forwardStep(float[] x, int rows, KvCache[] caches, int[] prefixLengths, SlidingWindowSemantics semantics) {
        int hidden = config.hiddenSize(), headDim = config.headDim();
        int heads = config.numAttentionHeads(), kvHeads = config.numKeyValueHeads();
        float eps = (float) config.rmsNormEps();
        float scale = (float) Math.pow(config.queryPreAttnScalar(), -0.5);
        float attnCap = config.attnLogitSoftcap() == null ? 0f : config.attnLogitSoftcap().floatValue();
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim;

        float[] normed = new float[rows * hidden];
        float[] q = new float[rows * qWidth], k = new float[rows * kvWidth], v = new float[rows * kvWidth];
        float[] attended = new float[q.length];
        float[] rowQuery = new float[qWidth], rowAttended = new float[qWidth];
        float[] projected = new float[rows * hidden];
        float[] gate = new float[rows * config.intermediateSize()];
        float[] up = new float[gate.length];
        float[][] cos = new float[rows][headDim], sin = new float[rows][headDim];
        int[] positions = new int[rows];
        for (int t = 0; t < rows; t++) {
            caches[t].ensureRoom(1);
            positions[t] = caches[t].length();
            rope.tables(positions[t], cos[t], sin[t]);
        }

        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            Ops.rmsNorm(x, normed, rows, hidden, layer.inputNorm, eps);
            FloatMatrix.matvecAll(normed, rows, layer.q.into(q), layer.k.into(k), layer.v.into(v));
            layer.q.addAdapterStep(normed, rows, q);
            layer.k.addAdapterStep(normed, rows, k);
            layer.v.addAdapterStep(normed, rows, v);
            for (int t = 0; t < rows; t++) {
                int pos = positions[t];
                rope.apply(q, t * qWidth, heads, pos, cos[t], sin[t]);
                rope.apply(k, t * kvWidth, kvHeads, pos, cos[t], sin[t]);
                KvCache cache = caches[t];
                cache.store(l, pos, 1, k, t * kvWidth, v, t * kvWidth);
                PrefixLmMask mask = PrefixLmMask.forLayer(prefixLengths[t], config.isSlidingWindowLayer(l), config.slidingWindow(), semantics);
                System.arraycopy(q, t * qWidth, rowQuery, 0, qWidth);
                cache.attend(l, rowQuery, 1, pos, heads, kvHeads, headDim, scale, attnCap, mask, rowAttended);
                System.arraycopy(rowAttended, 0, attended, t * qWidth, qWidth);
            }
            FloatMatrix.matvecAll(attended, rows, layer.o.into(projected));
            layer.o.addAdapterStep(attended, rows, projected);
            if (config.postNorms()) Ops.rmsNorm(projected, projected, rows, hidden, layer.postAttentionNorm, eps);
            Ops.add(x, projected, rows * hidden);

            Ops.rmsNorm(x, normed, rows, hidden, config.postNorms() ? layer.preFeedforwardNorm : layer.postAttentionNorm, eps);
            FloatMatrix.matvecAll(normed, rows, layer.gate.into(gate), layer.up.into(up));
            layer.gate.addAdapterStep(normed, rows, gate);
            layer.up.addAdapterStep(normed, rows, up);
            // Row by row: the vector kernels' ragged tail must fall where a lone sequence's does.
            int inner = config.intermediateSize();
            for (int t = 0; t < rows; t++) Ops.geglu(gate, t * inner, up, t * inner, inner);
            FloatMatrix.matvecAll(gate, rows, layer.down.into(projected));
            layer.down.addAdapterStep(gate, rows, projected);
            if (config.postNorms()) Ops.rmsNorm(projected, projected, rows, hidden, layer.postFeedforwardNorm, eps);
            Ops.add(x, projected, rows * hidden);
        }
        Ops.rmsNorm(x, x, rows, hidden, finalNorm, eps);
        for (KvCache cache : caches) cache.advance(1);
    }

    /** Logits {@code [rows, vocab]} of one decode step's rows, each computed as for a lone sequence. */
    float[] stepLogits(float[] hiddenStates, int rows) {
        float[] out = new float[rows * embedding.rows()];
        FloatMatrix.matvecAll(hiddenStates, rows, new org.paligemma4j.tensor.Product(embedding, out, null,
                org.paligemma4j.tensor.Epilogue.STORE));
        if (config.finalLogitSoftcap() != null) {
            int vocab = embedding.rows();
            for (int t = 0; t < rows; t++) Ops.softCap(out, t * vocab, (t + 1) * vocab, config.finalLogitSoftcap().floatValue());
        }
        return out;
    }

    /** Applies a LoRA adapter's modules for these layers at inference (null removes them). */
    void attach(LoraAdapter adapter) {
        for (Layer l : layers) {
            for (Linear m : new Linear[] {l.q, l.k, l.v, l.o, l.gate, l.up, l.down}) m.attach(adapter);
        }
    }

    /** Every weight matrix, for saving a quantized model. */
    void collectMatrices(java.util.List<FloatMatrix> out) {
        out.add(embedding);
        for (Layer l : layers) {
            for (Linear m : new Linear[] {l.q, l.k, l.v, l.o, l.gate, l.up, l.down}) out.add(m.weight);
        }
    }

    /** Bytes of weights one decode step streams: every layer matrix and the LM head. */
    long weightBytesPerToken() {
        long n = embedding.storageBytes();
        for (Layer l : layers) {
            for (Linear m : new Linear[] {l.q, l.k, l.v, l.o, l.gate, l.up, l.down}) n += m.weight.storageBytes();
        }
        return n;
    }

    int vocabSize() {
        return embedding.rows();
    }

    /**
     * Logits of {@code tokens} final hidden states: the tied embedding as LM head, then (Gemma 2) logit
     * soft-capping. Output {@code [tokens, vocab]}.
     */
    float[] logits(float[] hiddenStates, int tokens) {
        float[] out = new float[tokens * embedding.rows()];
        embedding.matmul(hiddenStates, tokens, out);
        if (config.finalLogitSoftcap() != null) Ops.softCap(out, 0, out.length, config.finalLogitSoftcap().floatValue());
        return out;
    }
}
