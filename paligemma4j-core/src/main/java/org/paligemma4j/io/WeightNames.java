package org.paligemma4j.io;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every Hugging Face tensor name of a PaliGemma checkpoint, with the shape the config implies.
 *
 * <p>Names are canonical in the layout of the published Hub files ({@code vision_tower.vision_model.…},
 * {@code multi_modal_projector.linear.…}, {@code language_model.model.…}); {@link #canonical} maps the
 * newer transformers layout ({@code model.vision_tower.…}, {@code model.language_model.…},
 * {@code lm_head.weight}) onto it. Linear weights are PyTorch's {@code [out, in]}.
 */
public final class WeightNames {
    private WeightNames() {}

    public static final String VISION = "vision_tower.vision_model.";
    public static final String PROJECTOR = "multi_modal_projector.linear.";
    public static final String TEXT = "language_model.model.";
    public static final String LM_HEAD = "language_model.lm_head.weight";

    public static String vision(String name) {
        return VISION + name;
    }

    public static String visionLayer(int layer, String name) {
        return VISION + "encoder.layers." + layer + "." + name;
    }

    public static String projector(String name) {
        return PROJECTOR + name;
    }

    public static String text(String name) {
        return TEXT + name;
    }

    public static String textLayer(int layer, String name) {
        return TEXT + "layers." + layer + "." + name;
    }

    /** The published-layout name for a key in either layout. */
    public static String canonical(String key) {
        if (key.startsWith("model.language_model.")) return TEXT + key.substring("model.language_model.".length());
        if (key.startsWith("model.vision_tower.")) return "vision_tower." + key.substring("model.vision_tower.".length());
        if (key.startsWith("model.multi_modal_projector.")) {
            return "multi_modal_projector." + key.substring("model.multi_modal_projector.".length());
        }
        if (key.equals("lm_head.weight")) return LM_HEAD;
        return key;
    }

    /** Required tensors and their shapes for {@code config}, in a stable order. */
    public static Map<String, long[]> expected(PaliGemmaConfig config) {
        Map<String, long[]> m = new LinkedHashMap<>();
        VisionConfig v = config.vision();
        long dv = v.hiddenSize();
        m.put(vision("embeddings.patch_embedding.weight"), new long[] {dv, v.numChannels(), v.patchSize(), v.patchSize()});
        m.put(vision("embeddings.patch_embedding.bias"), new long[] {dv});
        m.put(vision("embeddings.position_embedding.weight"), new long[] {v.numImageTokens(), dv});
        for (int i = 0; i < v.numHiddenLayers(); i++) {
            m.put(visionLayer(i, "layer_norm1.weight"), new long[] {dv});
            m.put(visionLayer(i, "layer_norm1.bias"), new long[] {dv});
            for (String p : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                m.put(visionLayer(i, "self_attn." + p + ".weight"), new long[] {dv, dv});
                m.put(visionLayer(i, "self_attn." + p + ".bias"), new long[] {dv});
            }
            m.put(visionLayer(i, "layer_norm2.weight"), new long[] {dv});
            m.put(visionLayer(i, "layer_norm2.bias"), new long[] {dv});
            m.put(visionLayer(i, "mlp.fc1.weight"), new long[] {v.intermediateSize(), dv});
            m.put(visionLayer(i, "mlp.fc1.bias"), new long[] {v.intermediateSize()});
            m.put(visionLayer(i, "mlp.fc2.weight"), new long[] {dv, v.intermediateSize()});
            m.put(visionLayer(i, "mlp.fc2.bias"), new long[] {dv});
        }
        m.put(vision("post_layernorm.weight"), new long[] {dv});
        m.put(vision("post_layernorm.bias"), new long[] {dv});

        m.put(projector("weight"), new long[] {config.projectionDim(), dv});
        m.put(projector("bias"), new long[] {config.projectionDim()});

        TextConfig t = config.text();
        long h = t.hiddenSize();
        long q = (long) t.numAttentionHeads() * t.headDim();
        long kv = (long) t.numKeyValueHeads() * t.headDim();
        m.put(text("embed_tokens.weight"), new long[] {t.vocabSize(), h});
        for (int i = 0; i < t.numHiddenLayers(); i++) {
            m.put(textLayer(i, "input_layernorm.weight"), new long[] {h});
            m.put(textLayer(i, "self_attn.q_proj.weight"), new long[] {q, h});
            m.put(textLayer(i, "self_attn.k_proj.weight"), new long[] {kv, h});
            m.put(textLayer(i, "self_attn.v_proj.weight"), new long[] {kv, h});
            m.put(textLayer(i, "self_attn.o_proj.weight"), new long[] {h, q});
            if (t.attentionBias()) {
                m.put(textLayer(i, "self_attn.q_proj.bias"), new long[] {q});
                m.put(textLayer(i, "self_attn.k_proj.bias"), new long[] {kv});
                m.put(textLayer(i, "self_attn.v_proj.bias"), new long[] {kv});
                m.put(textLayer(i, "self_attn.o_proj.bias"), new long[] {h});
            }
            m.put(textLayer(i, "post_attention_layernorm.weight"), new long[] {h});
            if (t.postNorms()) {
                m.put(textLayer(i, "pre_feedforward_layernorm.weight"), new long[] {h});
                m.put(textLayer(i, "post_feedforward_layernorm.weight"), new long[] {h});
            }
            m.put(textLayer(i, "mlp.gate_proj.weight"), new long[] {t.intermediateSize(), h});
            m.put(textLayer(i, "mlp.up_proj.weight"), new long[] {t.intermediateSize(), h});
            m.put(textLayer(i, "mlp.down_proj.weight"), new long[] {h, t.intermediateSize()});
        }
        m.put(text("norm.weight"), new long[] {h});
        if (!t.tieWordEmbeddings()) m.put(LM_HEAD, new long[] {t.vocabSize(), h});
        return m;
    }

    /** Tensors a checkpoint may carry without the model needing them. */
    static boolean isOptional(String canonical, PaliGemmaConfig config) {
        return (canonical.equals(LM_HEAD) && config.text().tieWordEmbeddings()) || canonical.endsWith("rotary_emb.inv_freq");
    }
}
