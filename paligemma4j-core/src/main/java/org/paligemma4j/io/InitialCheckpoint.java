package org.paligemma4j.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Writes a freshly initialised PaliGemma checkpoint, ready to train from scratch, in the Hub's layout: every
 * file a downloaded model has ({@code config.json}, {@code model.safetensors} (float32, the trainer's master
 * precision), {@code tokenizer.model}, {@code tokenizer_config.json}, {@code special_tokens_map.json},
 * {@code added_tokens.json}, {@code preprocessor_config.json}, {@code generation_config.json}).
 *
 * <p>Initialisation: matrices normal with std {@code 1/sqrt(fan_in)} (LeCun, as SigLIP), the projections that
 * write into the residual stream ({@code out_proj}, {@code fc2}, {@code o_proj}, {@code down_proj}) further
 * scaled by {@code 1/sqrt(2·layers)} so the stream's variance stays near one; token embeddings std
 * {@code 1/sqrt(hidden)} because the decoder multiplies them by {@code sqrt(hidden)}; LayerNorm scales 1,
 * Gemma's RMSNorm weights 0 (they scale by {@code 1 + w}), biases 0. The {@code <loc>} embeddings get an
 * ordinal structure ({@link #locationEmbedding}): neighbouring bins start out similar, which detection from
 * scratch needs to learn coordinates at all.
 */
public final class InitialCheckpoint {
    private InitialCheckpoint() {}

    /** Rows after {@code <image>}, as in PaliGemma (vocab_size = pieces + 64). */
    public static final int PADDING_ROWS = 64;

    /**
     * The tokenizer to ship: the model bytes, its piece count (so {@code <image>} = pieces, vocab_size = pieces +
     * 64), and the ids of {@code <loc0000>} and {@code <seg000>} (1024 and 128 consecutive ids).
     */
    public record Tokenizer(byte[] model, int pieces, int firstLocation, int firstSegmentation) {}

    /**
     * @param template a config.json: vision and text settings are taken from it; vocab_size,
     *     image_token_index, num_image_tokens and the special ids are set from the tokenizer and vision settings
     */
    public static PaliGemmaConfig write(Path template, Tokenizer tokenizer, long seed, Path out) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode config;
        try {
            config = (ObjectNode) json.readTree(template.toFile());
        } catch (IOException | ClassCastException e) {
            throw new CheckpointException(template + ": not a JSON object: " + e.getMessage());
        }
        if (!(config.get("text_config") instanceof ObjectNode text) || !(config.get("vision_config") instanceof ObjectNode vision)) {
            throw new CheckpointException(template + ": needs \"text_config\" and \"vision_config\" objects");
        }
        int vocab = tokenizer.pieces() + PADDING_ROWS;
        config.put("model_type", "paligemma");
        config.putArray("architectures").add("PaliGemmaForConditionalGeneration");
        config.put("image_token_index", tokenizer.pieces());
        config.put("pad_token_id", 0);
        config.put("bos_token_id", 2);
        config.put("eos_token_id", 1);
        config.put("torch_dtype", "float32");
        text.put("vocab_size", vocab);
        int imageSize = vision.path("image_size").asInt(224), patch = vision.path("patch_size").asInt(14);
        text.put("num_image_tokens", (imageSize / patch) * (imageSize / patch));

        Files.createDirectories(out);
        json.writeValue(out.resolve("config.json").toFile(), config);
        PaliGemmaConfig loaded;
        try {
            loaded = PaliGemmaConfig.load(out);
        } catch (CheckpointException | IllegalArgumentException e) {
            Files.delete(out.resolve("config.json"));
            throw new CheckpointException(template + ": not a usable PaliGemma architecture: " + e.getMessage());
        }

        Files.write(out.resolve("tokenizer.model"), tokenizer.model());
        writeProcessorFiles(json, loaded, tokenizer, out);
        writeWeights(loaded, tokenizer, seed, out.resolve("model.safetensors"));
        return loaded;
    }

    private static void writeProcessorFiles(ObjectMapper json, PaliGemmaConfig config, Tokenizer tokenizer, Path out)
            throws IOException {
        ObjectNode generation = json.createObjectNode();
        generation.put("bos_token_id", 2).put("eos_token_id", 1).put("pad_token_id", 0);
        json.writeValue(out.resolve("generation_config.json").toFile(), generation);

        ObjectNode pre = json.createObjectNode();
        pre.put("do_convert_rgb", (String) null);
        pre.put("do_normalize", true).put("do_rescale", true).put("do_resize", true);
        pre.putArray("image_mean").add(0.5).add(0.5).add(0.5);
        pre.put("image_processor_type", "SiglipImageProcessor");
        pre.put("image_seq_length", config.numImageTokens());
        pre.putArray("image_std").add(0.5).add(0.5).add(0.5);
        pre.put("processor_class", "PaliGemmaProcessor");
        pre.put("resample", 3);
        pre.put("rescale_factor", 1 / 255.0);
        pre.putObject("size").put("height", config.vision().imageSize()).put("width", config.vision().imageSize());
        json.writeValue(out.resolve("preprocessor_config.json").toFile(), pre);

        ObjectNode added = json.createObjectNode();
        added.put("<image>", tokenizer.pieces());
        json.writeValue(out.resolve("added_tokens.json").toFile(), added);

        ObjectNode tok = json.createObjectNode();
        tok.put("add_bos_token", false).put("add_eos_token", false);
        ObjectNode decoder = tok.putObject("added_tokens_decoder");
        String[] specials = {"<pad>", "<eos>", "<bos>", "<unk>"};
        for (int i = 0; i < specials.length; i++) addedToken(decoder, i, specials[i], false, true);
        for (int i = 0; i < 1024; i++) addedToken(decoder, tokenizer.firstLocation() + i, String.format("<loc%04d>", i), true, false);
        for (int i = 0; i < 128; i++) addedToken(decoder, tokenizer.firstSegmentation() + i, String.format("<seg%03d>", i), true, false);
        addedToken(decoder, tokenizer.pieces(), "<image>", false, true);
        tok.putArray("additional_special_tokens").add("<image>");
        tok.put("bos_token", "<bos>").put("clean_up_tokenization_spaces", false).put("eos_token", "<eos>");
        tok.put("model_max_length", 1000000000000000019884624838656.0);
        tok.put("pad_token", "<pad>").put("processor_class", "PaliGemmaProcessor");
        tok.putObject("sp_model_kwargs");
        tok.put("spaces_between_special_tokens", false).put("tokenizer_class", "GemmaTokenizer");
        tok.put("unk_token", "<unk>").put("use_default_system_prompt", false);
        json.writeValue(out.resolve("tokenizer_config.json").toFile(), tok);

        ObjectNode special = json.createObjectNode();
        ArrayNode additional = special.putArray("additional_special_tokens");
        specialToken(additional.addObject(), "<image>");
        for (String[] s : new String[][] {{"bos_token", "<bos>"}, {"eos_token", "<eos>"}, {"pad_token", "<pad>"}, {"unk_token", "<unk>"}}) {
            specialToken(special.putObject(s[0]), s[1]);
        }
        json.writeValue(out.resolve("special_tokens_map.json").toFile(), special);
    }

    private static void addedToken(ObjectNode decoder, int id, String content, boolean normalized, boolean special) {
        decoder.putObject(Integer.toString(id)).put("content", content).put("lstrip", false).put("normalized", normalized)
                .put("rstrip", false).put("single_word", false).put("special", special);
    }

    private static void specialToken(ObjectNode n, String content) {
        n.put("content", content).put("lstrip", false).put("normalized", false).put("rstrip", false).put("single_word", false);
    }

    private static void writeWeights(PaliGemmaConfig config, Tokenizer tokenizer, long seed, Path file) throws IOException {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, long[]> e : new TreeMap<>(WeightNames.expected(config)).entrySet()) {
            float[] values = initialValues(e.getKey(), e.getValue(), config, seed);
            if (e.getKey().equals(WeightNames.text("embed_tokens.weight"))) {
                int hidden = config.text().hiddenSize();
                for (int i = 0; i < 1024; i++) {
                    System.arraycopy(locationEmbedding(i, hidden), 0, values, (tokenizer.firstLocation() + i) * hidden, hidden);
                }
            } else if (e.getKey().contains("position_embedding")) {
                values = patchPositionEmbeddings(config.vision().imageSize() / config.vision().patchSize(),
                        config.vision().hiddenSize());
            }
            entries.add(new SafetensorsWriter.Entry(e.getKey(), DType.F32, e.getValue(), SafetensorsWriter.Content.ofFloats(values)));
        }
        SafetensorsWriter.write(file, entries, Map.of("format", "pt"));
    }

    static float[] initialValues(String name, long[] shape, PaliGemmaConfig config, long seed) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[Math.toIntExact(n)];
        boolean vision = name.startsWith(WeightNames.VISION);
        if (name.endsWith(".bias")) return v;
        if (shape.length == 1) {
            // LayerNorm (SigLIP) scales start at 1; Gemma's RMSNorm computes x·(1 + w), so w starts at 0.
            if (vision) java.util.Arrays.fill(v, 1f);
            return v;
        }
        double std;
        if (name.contains("embed_tokens") || name.equals(WeightNames.LM_HEAD)) {
            std = 1 / Math.sqrt(config.text().hiddenSize());
        } else if (name.contains("position_embedding")) {
            std = 1 / Math.sqrt(shape[1]);
        } else {
            long fanIn = n / shape[0];
            std = 1 / Math.sqrt(fanIn);
            // PaliGemma divides the projected image features by sqrt(text hidden) (and multiplies the token
            // embeddings by it): a projector scaled up by the same factor lets image tokens enter the decoder's
            // residual stream at the scale of text tokens rather than 1/sqrt(hidden) of it.
            if (name.startsWith(WeightNames.PROJECTOR) && name.endsWith(".weight")) std *= Math.sqrt(config.text().hiddenSize());
            if (name.contains("out_proj") || name.contains("fc2") || name.contains("o_proj") || name.contains("down_proj")) {
                int layers = vision ? config.vision().numHiddenLayers() : config.text().numHiddenLayers();
                std /= Math.sqrt(2.0 * layers);
            }
        }
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ name.hashCode());
        for (int i = 0; i < v.length; i++) v[i] = (float) (std * rng.nextGaussian());
        return v;
    }

    /**
     * The start of SigLIP's learned position embeddings, one per patch of a {@code side × side} grid: fixed 2-D
     * sine/cosine features as in MAE and MoCo v3, the first half of the width encoding the patch's row and the
     * second half its column, each as sine/cosine pairs at wavelengths from 2 to {@code 4·side} patches. Random
     * position embeddings leave the encoder to discover where each patch is; detection needs that from the
     * first step. Amplitude 0.5, about the scale of the patch embeddings of pixels in [-1, 1].
     */
    public static float[] patchPositionEmbeddings(int side, int width) {
        float[] e = new float[side * side * width];
        int half = width / 2, pairs = half / 2;
        for (int row = 0; row < side; row++) {
            for (int col = 0; col < side; col++) {
                int o = (row * side + col) * width;
                for (int k = 0; k < pairs; k++) {
                    double wavelength = 2 * Math.pow(2.0 * side, pairs == 1 ? 0 : k / (double) (pairs - 1));
                    e[o + 2 * k] = (float) (0.5 * Math.sin(2 * Math.PI * row / wavelength));
                    e[o + 2 * k + 1] = (float) (0.5 * Math.cos(2 * Math.PI * row / wavelength));
                    e[o + half + 2 * k] = (float) (0.5 * Math.sin(2 * Math.PI * col / wavelength));
                    e[o + half + 2 * k + 1] = (float) (0.5 * Math.cos(2 * Math.PI * col / wavelength));
                }
            }
        }
        return e;
    }

    /**
     * The ordinal start of {@code <loc i>}'s embedding: sine/cosine pairs of {@code i} at wavelengths from 8 to
     * 4096 bins (geometric), amplitude {@code sqrt(2/hidden)} so every component has the std of the other
     * embeddings ({@code 1/sqrt(hidden)}). Nearby bins get nearly equal vectors, far ones nearly orthogonal.
     */
    public static float[] locationEmbedding(int i, int hidden) {
        float[] e = new float[hidden];
        int pairs = hidden / 2;
        double amplitude = Math.sqrt(2.0 / hidden);
        for (int k = 0; k < pairs; k++) {
            double wavelength = 8 * Math.pow(512, pairs == 1 ? 0 : k / (double) (pairs - 1));
            double angle = 2 * Math.PI * i / wavelength;
            e[2 * k] = (float) (amplitude * Math.sin(angle));
            e[2 * k + 1] = (float) (amplitude * Math.cos(angle));
        }
        return e;
    }
}
