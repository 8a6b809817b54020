package org.paligemma4j.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.paligemma4j.io.Checkpoint;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.io.SafetensorsWriter;
import org.paligemma4j.io.ShardedCheckpointWriter;
import org.paligemma4j.io.SyntheticCheckpoint;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.Q4Matrix;
import org.paligemma4j.tensor.Q8Matrix;

/**
 * Saves a model opened with int8/int4 weights as a checkpoint that re-opens without quantizing again:
 * the same model directory layout, every quantized matrix {@code N} stored as {@code N.q8} (int8) or
 * {@code N.q4} (packed nibbles) plus {@code N.q8.scales} / {@code N.q4.scales} (float32), every other tensor
 * (norms, biases, position embeddings) copied unchanged, and the config, tokenizer and preprocessing files
 * copied alongside.
 */
public final class QuantizedCheckpoint {
    private QuantizedCheckpoint() {}

    /** The non-weight files of a Hugging Face model directory that travel with the weights. */
    private static final List<String> SIDE_FILES = List.of("config.json", "generation_config.json", "preprocessor_config.json",
            "tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json");

    /** Writes {@code model} (opened from {@code model.directory()}) into {@code out}; returns the weight files. */
    public static List<Path> save(PaliGemmaModel model, Path out) throws IOException {
        Path source = model.directory();
        if (Files.isDirectory(out) && Files.isSameFile(source, out)) {
            throw new IllegalArgumentException(out + ": the output folder must differ from the model folder");
        }
        Files.createDirectories(out);
        for (String f : SIDE_FILES) {
            if (Files.isRegularFile(source.resolve(f))) {
                Files.copy(source.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        String format = model.weightFormat().cliName();
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        Set<String> replaced = new HashSet<>();
        for (FloatMatrix m : model.matrices()) {
            switch (m) {
                case Q8Matrix q -> {
                    entries.add(new SafetensorsWriter.Entry(q.name() + ModelWeights.Q8, DType.I8,
                            new long[] {q.rows(), q.cols()}, SafetensorsWriter.Content.copyOf(q.storedWeights())));
                    entries.add(scales(q.name() + ModelWeights.Q8, q.rows(), q.storedScales()));
                    replaced.add(q.name());
                }
                case Q4Matrix q -> {
                    long bytesPerRow = q.storedWeights().byteSize() / q.rows();
                    entries.add(new SafetensorsWriter.Entry(q.name() + ModelWeights.Q4, DType.U8,
                            new long[] {q.rows(), bytesPerRow}, SafetensorsWriter.Content.copyOf(q.storedWeights())));
                    entries.add(scales(q.name() + ModelWeights.Q4, q.rows(), q.storedScales()));
                    replaced.add(q.name());
                }
                default -> { }
            }
        }
        Checkpoint checkpoint = model.checkpoint();
        for (SafeTensor t : checkpoint.tensors().values()) {
            if (replaced.contains(t.name())) continue;
            entries.add(new SafetensorsWriter.Entry(t.name(), t.dtype(), t.shape(), SafetensorsWriter.Content.copyOf(t.data())));
        }
        entries.sort(java.util.Comparator.comparing(SafetensorsWriter.Entry::name));
        return ShardedCheckpointWriter.write(out, entries, SyntheticCheckpoint.DEFAULT_SHARD_BYTES,
                Map.of("format", "pt", "paligemma4j.weights", format), null);
    }

    private static SafetensorsWriter.Entry scales(String prefix, int rows, java.lang.foreign.MemorySegment scales) {
        return new SafetensorsWriter.Entry(prefix + ModelWeights.SCALES, DType.F32, new long[] {rows, scales.byteSize() / 4 / rows},
                SafetensorsWriter.Content.copyOf(scales));
    }
}
