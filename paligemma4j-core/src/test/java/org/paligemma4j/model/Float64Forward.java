package org.paligemma4j.model;

import static org.paligemma4j.io.WeightNames.projector;
import static org.paligemma4j.io.WeightNames.text;
import static org.paligemma4j.io.WeightNames.textLayer;
import static org.paligemma4j.io.WeightNames.vision;
import static org.paligemma4j.io.WeightNames.visionLayer;

import java.nio.file.Path;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.io.TextConfig;
import org.paligemma4j.io.VisionConfig;

/**
 * The whole PaliGemma forward pass in double precision, from the stored weights (float32 or bf16, widened
 * exactly), written for obviousness: plain loops, every sum in double, {@link Math} functions, no
 * vectors, no threads, nothing shared with the fast path but the weight names. It is the yardstick the
 * fixtures' float64 NumPy reference is: the float32 outputs of our kernels and of the reference are both
 * measured against it ({@code Float64ErrorTest}).
 *
 * <p>Semantics as in the fixtures' README: SigLIP (patch embedding, learned positions, pre-LayerNorm
 * blocks with GELU-tanh MLP, post-LayerNorm), the linear projector, then Gemma or Gemma 2 (RMSNorm(1+w),
 * RoPE at 1-based positions, grouped-query attention with the prefix-LM mask, Gemma 2's soft caps, sliding
 * window and extra norms, GeGLU, final norm, tied LM head). The image features are divided by
 * sqrt(hidden) and multiplied back by it, as in the reference; in double that is the identity up to 1 ulp.
 */
final class Float64Forward implements AutoCloseable {
    private final ModelSource.Weights opened;
    private final ModelWeights w;
    final PaliGemmaConfig config;

    Float64Forward(Path modelDir) {
        opened = ModelSource.of(modelDir).openWeights();
        config = opened.config();
        w = ModelWeights.bind(opened.checkpoint(), config, opened.configName());
    }

    @Override
    public void close() {
        opened.checkpoint().close();
    }

    private double[] tensor(String name) {
        float[] f = w.get(name).toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** The stages of one forward pass, in double. */
    record Result(double[] vision, double[] projected, double[] logits) {}

    /** pixel values {@code [3, S, S]} and the input ids → vision features, projected features, logits {@code [L, vocab]}. */
    Result forward(float[] pixelValues, int[] ids, int prefixLength, SlidingWindowSemantics semantics) {
        double[] vis = visionTower(pixelValues);
        VisionConfig vc = config.vision();
        int tokens = vc.numImageTokens();
        double[] projected = linear(vis, tokens, tensor(projector("weight")), tensor(projector("bias")));
        double[] logits = decoder(ids, projected, prefixLength, semantics);
        return new Result(vis, projected, logits);
    }

    // ---------------------------------------------------------------- vision

    double[] visionTower(float[] pixels) {
        VisionConfig c = config.vision();
        int size = c.imageSize(), p = c.patchSize(), side = size / p, channels = c.numChannels();
        int tokens = side * side, width = c.hiddenSize();
        double[] convW = tensor(vision("embeddings.patch_embedding.weight")); // [width, C, P, P]
        double[] convB = tensor(vision("embeddings.patch_embedding.bias"));
        double[] pos = tensor(vision("embeddings.position_embedding.weight"));
        double[] x = new double[tokens * width];
        for (int py = 0; py < side; py++) {
            for (int px = 0; px < side; px++) {
                int t = py * side + px;
                for (int o = 0; o < width; o++) {
                    double s = convB[o];
                    for (int ch = 0; ch < channels; ch++) {
                        for (int ky = 0; ky < p; ky++) {
                            for (int kx = 0; kx < p; kx++) {
                                s += convW[((o * channels + ch) * p + ky) * p + kx]
                                        * (double) pixels[(ch * size + py * p + ky) * size + px * p + kx];
                            }
                        }
                    }
                    x[t * width + o] = s + pos[t * width + o];
                }
            }
        }
        int heads = c.numAttentionHeads(), headDim = width / heads;
        double eps = c.layerNormEps();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            double[] h = layerNorm(x, tokens, width, tensor(visionLayer(l, "layer_norm1.weight")),
                    tensor(visionLayer(l, "layer_norm1.bias")), eps);
            double[] q = linear(h, tokens, tensor(visionLayer(l, "self_attn.q_proj.weight")), tensor(visionLayer(l, "self_attn.q_proj.bias")));
            double[] k = linear(h, tokens, tensor(visionLayer(l, "self_attn.k_proj.weight")), tensor(visionLayer(l, "self_attn.k_proj.bias")));
            double[] v = linear(h, tokens, tensor(visionLayer(l, "self_attn.v_proj.weight")), tensor(visionLayer(l, "self_attn.v_proj.bias")));
            double[] a = attention(q, k, v, tokens, heads, heads, headDim, 1 / Math.sqrt(headDim), 0, (i, j) -> true);
            addInPlace(x, linear(a, tokens, tensor(visionLayer(l, "self_attn.out_proj.weight")), tensor(visionLayer(l, "self_attn.out_proj.bias"))));
            h = layerNorm(x, tokens, width, tensor(visionLayer(l, "layer_norm2.weight")), tensor(visionLayer(l, "layer_norm2.bias")), eps);
            double[] f = linear(h, tokens, tensor(visionLayer(l, "mlp.fc1.weight")), tensor(visionLayer(l, "mlp.fc1.bias")));
            for (int i = 0; i < f.length; i++) f[i] = geluTanh(f[i]);
            addInPlace(x, linear(f, tokens, tensor(visionLayer(l, "mlp.fc2.weight")), tensor(visionLayer(l, "mlp.fc2.bias"))));
        }
        return layerNorm(x, tokens, width, tensor(vision("post_layernorm.weight")), tensor(vision("post_layernorm.bias")), eps);
    }

    // ---------------------------------------------------------------- decoder

    double[] decoder(int[] ids, double[] projected, int prefixLength, SlidingWindowSemantics semantics) {
        TextConfig c = config.text();
        int n = ids.length, hidden = c.hiddenSize(), heads = c.numAttentionHeads(), kvHeads = c.numKeyValueHeads();
        int headDim = c.headDim(), vocab = c.vocabSize();
        double[] embedding = tensor(text("embed_tokens.weight")); // [vocab, hidden]
        double normalizer = Math.sqrt(hidden);
        double[] x = new double[n * hidden];
        int image = 0;
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < hidden; i++) {
                x[t * hidden + i] = ids[t] == config.imageTokenIndex()
                        ? projected[image * hidden + i] / normalizer * normalizer
                        : embedding[ids[t] * hidden + i] * normalizer;
            }
            if (ids[t] == config.imageTokenIndex()) image++;
        }
        double eps = c.rmsNormEps();
        double scale = 1 / Math.sqrt(c.queryPreAttnScalar());
        double attnCap = c.attnLogitSoftcap() == null ? 0 : c.attnLogitSoftcap();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            double[] h = rmsNorm(x, n, hidden, tensor(textLayer(l, "input_layernorm.weight")), eps);
            double[] q = linear(h, n, tensor(textLayer(l, "self_attn.q_proj.weight")), bias(textLayer(l, "self_attn.q_proj.bias")));
            double[] k = linear(h, n, tensor(textLayer(l, "self_attn.k_proj.weight")), bias(textLayer(l, "self_attn.k_proj.bias")));
            double[] v = linear(h, n, tensor(textLayer(l, "self_attn.v_proj.weight")), bias(textLayer(l, "self_attn.v_proj.bias")));
            rope(q, n, heads, headDim, c.ropeTheta());
            rope(k, n, kvHeads, headDim, c.ropeTheta());
            boolean sliding = c.isSlidingWindowLayer(l);
            int window = sliding ? c.slidingWindow() : 0;
            Visibility mask = (i, j) -> {
                if (!(j <= i || j < prefixLength)) return false;
                if (!sliding || semantics == SlidingWindowSemantics.FULL) return true;
                if (semantics == SlidingWindowSemantics.TRANSFORMERS && i < prefixLength) return true;
                return j > i - window;
            };
            double[] a = attention(q, k, v, n, heads, kvHeads, headDim, scale, attnCap, mask);
            double[] o = linear(a, n, tensor(textLayer(l, "self_attn.o_proj.weight")), bias(textLayer(l, "self_attn.o_proj.bias")));
            if (c.postNorms()) o = rmsNorm(o, n, hidden, tensor(textLayer(l, "post_attention_layernorm.weight")), eps);
            addInPlace(x, o);

            h = rmsNorm(x, n, hidden, tensor(textLayer(l, c.postNorms() ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight")), eps);
            double[] gate = linear(h, n, tensor(textLayer(l, "mlp.gate_proj.weight")), null);
            double[] up = linear(h, n, tensor(textLayer(l, "mlp.up_proj.weight")), null);
            for (int i = 0; i < gate.length; i++) gate[i] = geluTanh(gate[i]) * up[i];
            double[] down = linear(gate, n, tensor(textLayer(l, "mlp.down_proj.weight")), null);
            if (c.postNorms()) down = rmsNorm(down, n, hidden, tensor(textLayer(l, "post_feedforward_layernorm.weight")), eps);
            addInPlace(x, down);
        }
        x = rmsNorm(x, n, hidden, tensor(text("norm.weight")), eps);
        double[] logits = linear(x, n, embedding, null);
        if (c.finalLogitSoftcap() != null) {
            double cap = c.finalLogitSoftcap();
            for (int i = 0; i < logits.length; i++) logits[i] = cap * Math.tanh(logits[i] / cap);
        }
        if (logits.length != n * vocab) throw new IllegalStateException("vocabulary mismatch");
        return logits;
    }

    private double[] bias(String name) {
        return config.text().attentionBias() ? tensor(name) : null;
    }

    // ---------------------------------------------------------------- building blocks

    /** {@code y[t][r] = Σ_c W[r][c]·x[t][c] + b[r]} with W {@code [rows, cols]}. */
    static double[] linear(double[] x, int tokens, double[] weight, double[] bias) {
        int cols = x.length / tokens, rows = weight.length / cols;
        double[] y = new double[tokens * rows];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int k = 0; k < cols; k++) s += weight[r * cols + k] * x[t * cols + k];
                y[t * rows + r] = bias == null ? s : s + bias[r];
            }
        }
        return y;
    }

    static double[] layerNorm(double[] x, int tokens, int dim, double[] weight, double[] bias, double eps) {
        double[] y = new double[x.length];
        for (int t = 0; t < tokens; t++) {
            double mean = 0, var = 0;
            for (int i = 0; i < dim; i++) mean += x[t * dim + i];
            mean /= dim;
            for (int i = 0; i < dim; i++) var += (x[t * dim + i] - mean) * (x[t * dim + i] - mean);
            var /= dim;
            double inv = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < dim; i++) y[t * dim + i] = (x[t * dim + i] - mean) * inv * weight[i] + bias[i];
        }
        return y;
    }

    /** Gemma's RMSNorm: {@code x / sqrt(mean(x²) + eps) · (1 + w)}. */
    static double[] rmsNorm(double[] x, int tokens, int dim, double[] weight, double eps) {
        double[] y = new double[x.length];
        for (int t = 0; t < tokens; t++) {
            double ms = 0;
            for (int i = 0; i < dim; i++) ms += x[t * dim + i] * x[t * dim + i];
            double inv = 1 / Math.sqrt(ms / dim + eps);
            for (int i = 0; i < dim; i++) y[t * dim + i] = x[t * dim + i] * inv * (1 + weight[i]);
        }
        return y;
    }

    static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** Rotate-half RoPE in place over {@code [tokens, heads·headDim]}, token t at position t + 1 (as the reference). */
    static void rope(double[] x, int tokens, int heads, int headDim, double theta) {
        int half = headDim / 2;
        for (int t = 0; t < tokens; t++) {
            double position = t + 1;
            for (int h = 0; h < heads; h++) {
                int o = (t * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    double angle = position / Math.pow(theta, 2.0 * i / headDim);
                    double cos = Math.cos(angle), sin = Math.sin(angle);
                    double a = x[o + i], b = x[o + i + half];
                    x[o + i] = a * cos - b * sin;
                    x[o + i + half] = b * cos + a * sin;
                }
            }
        }
    }

    interface Visibility {
        boolean visible(int query, int key);
    }

    /** Softmax attention with grouped kv heads: scores {@code (q·k)·scale}, optional soft cap, mask, softmax, Σ p·v. */
    static double[] attention(double[] q, double[] k, double[] v, int tokens, int heads, int kvHeads, int headDim,
                              double scale, double softCap, Visibility mask) {
        double[] out = new double[tokens * heads * headDim];
        int groups = heads / kvHeads;
        double[] p = new double[tokens];
        for (int h = 0; h < heads; h++) {
            int kvh = h / groups;
            for (int i = 0; i < tokens; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < tokens; j++) {
                    if (!mask.visible(i, j)) {
                        p[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double s = 0;
                    for (int d = 0; d < headDim; d++) s += q[(i * heads + h) * headDim + d] * k[(j * kvHeads + kvh) * headDim + d];
                    s *= scale;
                    if (softCap > 0) s = softCap * Math.tanh(s / softCap);
                    p[j] = s;
                    max = Math.max(max, s);
                }
                double total = 0;
                for (int j = 0; j < tokens; j++) total += p[j] = p[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(p[j] - max);
                for (int d = 0; d < headDim; d++) {
                    double o = 0;
                    for (int j = 0; j < tokens; j++) o += p[j] * v[(j * kvHeads + kvh) * headDim + d];
                    out[(i * heads + h) * headDim + d] = o / total;
                }
            }
        }
        return out;
    }

    static void addInPlace(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) a[i] += b[i];
    }
}
