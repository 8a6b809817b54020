package org.paligemma4j.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where a model comes from: a Hugging Face model directory or a big_vision {@code .npz} checkpoint, with an optional
 * config file and tokenizer that override (or, for an npz, supply) the model's own. Immutable: {@code withX} returns
 * a copy.
 *
 * <pre>{@code
 * ModelSource.of(Path.of("pt_224.npz")).withTokenizer(Path.of("paligemma_tokenizer.model"))
 * ModelSource.of(Path.of("paligemma2-3b-mix-224")).withConfig(Path.of("my-config.json"))
 * }</pre>
 *
 * @param path      the model directory or {@code .npz} file
 * @param config    a Hugging Face {@code config.json} used instead of the model's; null for the model's own (an npz's is
 *                  inferred from its shapes)
 * @param tokenizer a {@code tokenizer.model} or {@code tokenizer.json} used instead of the model's; required for an npz
 * @param notes     receives what was inferred or adjusted while opening (one line each), e.g. an npz's inferred config
 */
public record ModelSource(Path path, Path config, Path tokenizer, Consumer<String> notes) {

    public ModelSource {
        if (path == null) throw new IllegalArgumentException("no model path");
        if (notes == null) notes = line -> {};
    }

    public static ModelSource of(Path path) {
        return new ModelSource(path, null, null, null);
    }

    public ModelSource withConfig(Path configFile) {
        return new ModelSource(path, configFile, tokenizer, notes);
    }

    public ModelSource withTokenizer(Path tokenizerFile) {
        return new ModelSource(path, config, tokenizerFile, notes);
    }

    public ModelSource withNotes(Consumer<String> sink) {
        return new ModelSource(path, config, tokenizer, sink);
    }

    /** Whether the weights are a big_vision {@code .npz} rather than a Hugging Face directory. */
    public boolean isBigVision() {
        return BigVisionCheckpoint.isNpz(path);
    }

    /** The Hugging Face model directory (config, tokenizer and preprocessing files), or null for an npz. */
    public Path directory() {
        return isBigVision() ? null : path;
    }

    /** The tokenizer file or directory to read. */
    public Path tokenizerPath() {
        if (tokenizer != null) return tokenizer;
        if (isBigVision()) {
            throw new CheckpointException(path + ": a big_vision checkpoint has no tokenizer; give one "
                    + "(--tokenizer FILE: PaliGemma's SentencePiece tokenizer.model, or a tokenizer.json)");
        }
        return path;
    }

    /**
     * Opened weights with the config they are bound to.
     *
     * @param configName how messages name the config: its file, or where it was inferred from
     */
    public record Weights(Checkpoint checkpoint, PaliGemmaConfig config, String configName) {}

    /**
     * Reads the config (the override, else the directory's config.json, else inferred from the npz) and opens the
     * weights. The caller closes the checkpoint.
     */
    public Weights openWeights() {
        if (isBigVision()) {
            if (config != null) PaliGemmaConfig.loadFile(config); // fail on a bad config before reading weights
            BigVisionCheckpoint npz = BigVisionCheckpoint.open(path);
            try {
                List<String> lines = new ArrayList<>();
                PaliGemmaConfig c;
                if (config != null) {
                    c = PaliGemmaConfig.loadFile(config);
                } else {
                    BigVisionCheckpoint.InferredConfig inferred = npz.inferConfig();
                    lines.addAll(inferred.explanation());
                    c = inferred.config();
                }
                c = npz.fitVocabulary(c, lines);
                lines.forEach(notes);
                return new Weights(npz.checkpoint(), c, config != null ? config.toString() : "the config inferred from " + path);
            } catch (RuntimeException e) {
                npz.checkpoint().close();
                throw e;
            }
        }
        if (!Files.isDirectory(path)) {
            throw new CheckpointException(path + (Files.exists(path) ? ": not a model directory or a big_vision .npz file"
                    : ": model directory does not exist"));
        }
        PaliGemmaConfig c = config != null ? PaliGemmaConfig.loadFile(config) : PaliGemmaConfig.load(path);
        return new Weights(Checkpoint.open(path), c, (config != null ? config : path.resolve("config.json")).toString());
    }
}
