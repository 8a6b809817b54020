package org.paligemma4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.paligemma4j.tensor.HalfFloats;

/**
 * Writes a random-weight checkpoint with exactly the tensor names, shapes and dtype of a published
 * PaliGemma model, in the Hub's layout (config files, shards + index). Speed does not depend on weight
 * values, so benchmarks run on these. Values are a deterministic function of (seed, tensor, element),
 * small enough that activations stay finite.
 */
public final class SyntheticCheckpoint {

    /** transformers' default {@code max_shard_size} ("5GB"), which the published checkpoints were saved with. */
    public static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;

    private SyntheticCheckpoint() {}

    /**
     * @param like a {@link KnownModels} name, or a model directory whose config files are copied
     * @param dtype null for the dtype the model was published in
     */
    public record Options(String like, Path out, DType dtype, long seed, long maxShardBytes, Path tokenizer) {}

    public record Result(Path directory, List<Path> files, long tensorBytes, int tensors) {}

    public static Result write(Options o, ShardedCheckpointWriter.Progress progress) throws IOException {
        boolean known = KnownModels.isKnown(o.like());
        Path likeDir = known ? null : Path.of(o.like());
        if (!known && !Files.isRegularFile(likeDir.resolve("config.json"))) {
            throw new IllegalArgumentException("'" + o.like() + "' is neither a known model ("
                    + String.join(", ", KnownModels.names()) + ") nor a directory with a config.json");
        }
        DType dtype = o.dtype() != null ? o.dtype() : known ? KnownModels.publishedDType(o.like()) : DType.F32;
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("synthetic checkpoints are f32, bf16 or f16, not " + dtype);
        }
        Files.createDirectories(o.out());
        for (String f : List.of("config.json", "generation_config.json", "preprocessor_config.json")) {
            if (known) {
                Files.writeString(o.out().resolve(f), KnownModels.file(o.like(), f));
            } else if (Files.isRegularFile(likeDir.resolve(f))
                    && !Files.isSameFile(likeDir, o.out())) {
                Files.copy(likeDir.resolve(f), o.out().resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (o.tokenizer() != null) {
            Files.copy(o.tokenizer(), o.out().resolve("tokenizer.model"), StandardCopyOption.REPLACE_EXISTING);
        }
        PaliGemmaConfig config = PaliGemmaConfig.load(o.out());
        Files.writeString(o.out().resolve("added_tokens.json"), "{\n  \"<image>\": " + config.imageTokenIndex() + "\n}\n");

        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        long total = 0;
        for (Map.Entry<String, long[]> e : new java.util.TreeMap<>(WeightNames.expected(config)).entrySet()) {
            SafetensorsWriter.Entry entry = new SafetensorsWriter.Entry(e.getKey(), dtype, e.getValue(),
                    randomContent(e.getKey(), e.getValue(), dtype, o.seed()));
            entries.add(entry);
            total += entry.byteLength();
        }
        List<Path> files = ShardedCheckpointWriter.write(o.out(), entries, o.maxShardBytes(), Map.of("format", "pt"),
                progress);
        return new Result(o.out(), files, total, WeightNames.expected(config).size());
    }

    /**
     * Uniform values in ±1/sqrt(fan_in) for matrices (activations keep their scale), near 1 for LayerNorm
     * scales, near 0 for RMSNorm's (1 + w) and for biases.
     */
    static SafetensorsWriter.Content randomContent(String name, long[] shape, DType dtype, long seed) {
        double center, halfWidth;
        if (name.contains("layer_norm") || name.contains("post_layernorm")) {
            center = name.endsWith(".weight") ? 1.0 : 0.0;
            halfWidth = 0.05;
        } else if (shape.length == 1) {
            center = 0;
            halfWidth = 0.05;
        } else {
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
            center = 0;
            halfWidth = name.contains("embed") ? 0.05 : 1.0 / Math.sqrt(fanIn);
        }
        long stream = seed * 0x9E3779B97F4A7C15L ^ name.hashCode() * 0xC2B2AE3D27D4EB4FL;
        int size = dtype.byteSize();
        float c = (float) center, w = (float) (2 * halfWidth);
        return (offset, out) -> {
            long first = offset / size;
            int count = out.remaining() / size;
            ByteBuffer view = out.slice().order(ByteOrder.LITTLE_ENDIAN);
            int parts = count < 1 << 16 ? 1 : Runtime.getRuntime().availableProcessors();
            IntStream.range(0, parts).parallel().forEach(p -> {
                int from = (int) ((long) count * p / parts), to = (int) ((long) count * (p + 1) / parts);
                for (int i = from; i < to; i++) {
                    long bits = mix(stream + first + i);
                    float v = c + w * ((bits >>> 40) * 0x1p-24f - 0.5f);
                    switch (dtype) {
                        case F32 -> view.putFloat(i * 4, v);
                        case BF16 -> view.putShort(i * 2, HalfFloats.floatToBf16(v));
                        default -> view.putShort(i * 2, HalfFloats.floatToF16(v));
                    }
                }
            });
            out.position(out.position() + count * size);
        };
    }

    /** SplitMix64's finaliser: a counter in, 64 well-mixed bits out, so any chunk can be filled independently. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
