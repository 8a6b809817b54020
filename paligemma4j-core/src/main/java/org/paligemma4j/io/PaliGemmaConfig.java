package org.paligemma4j.io;

import java.nio.file.Path;
import java.util.Set;

/**
 * A PaliGemma checkpoint's {@code config.json}: SigLIP vision tower + linear projector + Gemma decoder.
 * Real config.json files list only non-default fields, so every absent field is filled with the value
 * Hugging Face's PaliGemmaConfig / GemmaConfig / Gemma2Config / SiglipVisionConfig would give it.
 *
 * <p>Decoder sizes come from {@code text_config} only: the top-level {@code hidden_size} and
 * {@code vocab_size} are stale copies in real PaliGemma 2 configs.
 *
 * @param projectionDim output width of the projector (must equal the decoder's hidden size)
 * @param eosTokenIds   end-of-sequence ids from config.json (generation_config.json may add more)
 */
public record PaliGemmaConfig(
        VisionConfig vision,
        TextConfig text,
        int projectionDim,
        int imageTokenIndex,
        int padTokenId,
        int bosTokenId,
        int[] eosTokenIds,
        String torchDtype) {

    private static final Set<String> TEXT_MODEL_TYPES = Set.of("gemma", "gemma2");

    /*
     * Bounds on the sizes a config may state. Binding builds a table of every tensor the sizes imply and the model
     * allocates buffers from them, so a damaged config (a layer count of 2^31) must be refused here, not explored.
     * They are far above every published PaliGemma (27 SigLIP layers, 46 decoder layers, width 4608, 257,216 tokens).
     */
    static final int MAX_LAYERS = 1024, MAX_WIDTH = 1 << 16, MAX_MLP = 1 << 20, MAX_HEADS = 1024, MAX_HEAD_DIM = 4096,
            MAX_VOCAB = 1 << 24, MAX_IMAGE_SIZE = 8192, MAX_POSITIONS = 1 << 24;

    /** Image tokens in every prompt (256 at 224 px). */
    public int numImageTokens() {
        return vision.numImageTokens();
    }

    /** Reads {@code dir/config.json}. */
    public static PaliGemmaConfig load(Path dir) {
        return loadFile(dir.resolve("config.json"));
    }

    /** Reads a Hugging Face PaliGemma config file of any name (e.g. one given with {@code --config}). */
    public static PaliGemmaConfig loadFile(Path file) {
        return parse(new JsonFields(JsonFields.readObject(file), file.toString()));
    }

    /**
     * This config as a Hugging Face {@code config.json} that {@link #loadFile} reads back to an equal config, every
     * field explicit (e.g. to save a config inferred from a big_vision checkpoint beside converted weights).
     */
    public String toJson() {
        com.fasterxml.jackson.databind.node.JsonNodeFactory f = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
        com.fasterxml.jackson.databind.node.ObjectNode root = f.objectNode();
        root.putArray("architectures").add("PaliGemmaForConditionalGeneration");
        root.put("model_type", "paligemma");
        root.put("projection_dim", projectionDim);
        root.put("image_token_index", imageTokenIndex);
        root.put("pad_token_id", padTokenId);
        root.put("bos_token_id", bosTokenId);
        var eos = root.putArray("eos_token_id");
        for (int id : eosTokenIds) eos.add(id);
        root.put("torch_dtype", torchDtype);
        var t = root.putObject("text_config");
        t.put("model_type", text.modelType());
        t.put("vocab_size", text.vocabSize());
        t.put("hidden_size", text.hiddenSize());
        t.put("intermediate_size", text.intermediateSize());
        t.put("num_hidden_layers", text.numHiddenLayers());
        t.put("num_attention_heads", text.numAttentionHeads());
        t.put("num_key_value_heads", text.numKeyValueHeads());
        t.put("head_dim", text.headDim());
        t.put("rms_norm_eps", text.rmsNormEps());
        t.put("rope_theta", text.ropeTheta());
        t.put("max_position_embeddings", text.maxPositionEmbeddings());
        t.put("hidden_activation", text.hiddenActivation());
        t.put("attention_bias", text.attentionBias());
        t.put("tie_word_embeddings", text.tieWordEmbeddings());
        if (text.isGemma2()) {
            t.put("query_pre_attn_scalar", text.queryPreAttnScalar());
            t.put("attn_logit_softcapping", text.attnLogitSoftcap());
            t.put("final_logit_softcapping", text.finalLogitSoftcap());
            t.put("sliding_window", text.slidingWindow());
            var types = t.putArray("layer_types");
            for (boolean sliding : text.slidingLayers()) types.add(sliding ? "sliding_attention" : "full_attention");
        }
        var v = root.putObject("vision_config");
        v.put("model_type", "siglip_vision_model");
        v.put("hidden_size", vision.hiddenSize());
        v.put("intermediate_size", vision.intermediateSize());
        v.put("num_hidden_layers", vision.numHiddenLayers());
        v.put("num_attention_heads", vision.numAttentionHeads());
        v.put("num_channels", vision.numChannels());
        v.put("image_size", vision.imageSize());
        v.put("patch_size", vision.patchSize());
        v.put("layer_norm_eps", vision.layerNormEps());
        v.put("hidden_act", vision.hiddenAct());
        v.put("projection_dim", projectionDim);
        return root.toPrettyString() + "\n";
    }

    public PaliGemmaConfig withText(TextConfig newText) {
        return new PaliGemmaConfig(vision, newText, projectionDim, imageTokenIndex, padTokenId, bosTokenId, eosTokenIds, torchDtype);
    }

    public PaliGemmaConfig withImageTokenIndex(int index) {
        return new PaliGemmaConfig(vision, text, projectionDim, index, padTokenId, bosTokenId, eosTokenIds, torchDtype);
    }

    public PaliGemmaConfig withTorchDtype(String dtype) {
        return new PaliGemmaConfig(vision, text, projectionDim, imageTokenIndex, padTokenId, bosTokenId, eosTokenIds, dtype);
    }

    static PaliGemmaConfig parse(JsonFields root) {
        String where = root.where();
        String modelType = root.stringOr("model_type", null);
        if (modelType == null) {
            throw new CheckpointException(where + ": missing 'model_type' (expected \"paligemma\")");
        }
        if (!modelType.equals("paligemma")) {
            throw new CheckpointException(where + ": model_type is \"" + modelType
                    + "\", but paligemma4j runs PaliGemma checkpoints (model_type \"paligemma\")");
        }
        JsonFields textFields = root.child("text_config");
        if (textFields == null) {
            throw new CheckpointException(where + ": missing 'text_config' (the Gemma decoder's configuration)");
        }
        int projectionDim = root.intOr("projection_dim", 2048, 1, MAX_WIDTH);
        VisionConfig vision = parseVision(root.child("vision_config"), where, projectionDim);
        TextConfig text = parseText(textFields);
        int imageToken = root.has("image_token_index") ? root.intOr("image_token_index", 256000, 0, MAX_VOCAB)
                : root.intOr("image_token_id", 256000, 0, MAX_VOCAB);
        return new PaliGemmaConfig(vision, text, projectionDim, imageToken,
                root.intOr("pad_token_id", textFields.intOr("pad_token_id", 0, -1, MAX_VOCAB), -1, MAX_VOCAB),
                root.intOr("bos_token_id", textFields.intOr("bos_token_id", 2, 0, MAX_VOCAB), 0, MAX_VOCAB),
                root.intsOr("eos_token_id", textFields.intsOr("eos_token_id", new int[] {1})),
                root.stringOr("torch_dtype", root.stringOr("dtype", "float32")));
    }

    static VisionConfig parseVision(JsonFields v, String where, int projectionDim) {
        if (v == null) {
            // PaliGemmaConfig's own default tower when vision_config is absent: SigLIP So400m-like at 224 px.
            return new VisionConfig(1152, 4096, 27, 16, 3, 224, 14, 1e-6, "gelu_pytorch_tanh", projectionDim);
        }
        String type = v.stringOr("model_type", "siglip_vision_model");
        if (!type.equals("siglip_vision_model")) {
            throw new CheckpointException(v.where() + ": model_type is \"" + type + "\", expected \"siglip_vision_model\"");
        }
        String act = v.stringOr("hidden_act", "gelu_pytorch_tanh");
        checkTanhGelu(v.where(), "hidden_act", act);
        try {
            return new VisionConfig(
                v.intOr("hidden_size", 768, 1, MAX_WIDTH),
                v.intOr("intermediate_size", 3072, 1, MAX_MLP),
                v.intOr("num_hidden_layers", 12, 1, MAX_LAYERS),
                v.intOr("num_attention_heads", 12, 1, MAX_HEADS),
                v.intOr("num_channels", 3, 1, 4),
                v.intOr("image_size", 224, 1, MAX_IMAGE_SIZE),
                v.intOr("patch_size", 16, 1, MAX_IMAGE_SIZE),
                v.positiveOr("layer_norm_eps", 1e-6, true),
                act,
                projectionDim);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(v.where() + ": " + e.getMessage());
        }
    }

    static TextConfig parseText(JsonFields t) {
        String type = t.stringOr("model_type", "gemma");
        if (!TEXT_MODEL_TYPES.contains(type)) {
            throw new CheckpointException(t.where() + ": model_type is \"" + type
                    + "\"; supported decoders are \"gemma\" (PaliGemma 1) and \"gemma2\" (PaliGemma 2)");
        }
        boolean gemma2 = type.equals("gemma2");
        int layers = t.intOr("num_hidden_layers", gemma2 ? 26 : 28, 1, MAX_LAYERS);
        int headDim = t.intOr("head_dim", 256, 1, MAX_HEAD_DIM);
        // Gemma's MLP activation: hidden_activation wins; Gemma 1 configs often give only hidden_act.
        String activation = t.stringOr("hidden_activation", t.stringOr("hidden_act", "gelu_pytorch_tanh"));
        checkTanhGelu(t.where(), "hidden_activation", activation);
        Integer window = gemma2 ? Integer.valueOf(t.intOr("sliding_window", 4096, 1, Integer.MAX_VALUE)) : null;
        boolean[] sliding = new boolean[layers];
        if (gemma2) {
            var layerTypes = t.node().get("layer_types");
            for (int i = 0; i < layers; i++) {
                if (layerTypes != null && layerTypes.isArray()) {
                    if (layerTypes.size() != layers) {
                        throw new CheckpointException(t.where() + ": layer_types has " + layerTypes.size()
                                + " entries for " + layers + " layers");
                    }
                    sliding[i] = layerTypes.get(i).asText().equals("sliding_attention");
                } else {
                    sliding[i] = i % 2 == 0; // Gemma 2 alternates local (even) and global (odd) layers
                }
            }
        }
        try {
            return new TextConfig(
                type,
                t.intOr("vocab_size", 256000, 1, MAX_VOCAB),
                t.intOr("hidden_size", gemma2 ? 2304 : 3072, 1, MAX_WIDTH),
                t.intOr("intermediate_size", gemma2 ? 9216 : 24576, 1, MAX_MLP),
                layers,
                t.intOr("num_attention_heads", gemma2 ? 8 : 16, 1, MAX_HEADS),
                t.intOr("num_key_value_heads", gemma2 ? 4 : 16, 1, MAX_HEADS),
                headDim,
                t.positiveOr("rms_norm_eps", 1e-6, true),
                t.positiveOr("rope_theta", 10000.0, false),
                t.intOr("max_position_embeddings", 8192, 1, MAX_POSITIONS),
                activation,
                gemma2 ? t.positiveOr("query_pre_attn_scalar", 256, false) : headDim,
                gemma2 ? positiveUnlessNull(t, "attn_logit_softcapping", 50.0) : null,
                gemma2 ? positiveUnlessNull(t, "final_logit_softcapping", 30.0) : null,
                window,
                sliding,
                gemma2,
                t.boolOr("attention_bias", false),
                t.boolOr("tie_word_embeddings", true));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(t.where() + ": " + e.getMessage());
        }
    }

    /** A soft cap: absent → the default, null → none, else a finite number > 0 (tanh(x / cap) · cap). */
    private static Double positiveUnlessNull(JsonFields t, String key, double dflt) {
        Double v = t.doubleOrDefaultUnlessNull(key, dflt);
        return v == null ? null : t.positiveOr(key, dflt, false);
    }

    /** Every PaliGemma uses GELU with the tanh approximation; anything else would silently differ. */
    private static void checkTanhGelu(String where, String key, String act) {
        if (!Set.of("gelu_pytorch_tanh", "gelu_fast", "gelu_new").contains(act)) {
            throw new CheckpointException(where + ": " + key + " \"" + act
                    + "\" is not supported (PaliGemma uses \"gelu_pytorch_tanh\")");
        }
    }
}
