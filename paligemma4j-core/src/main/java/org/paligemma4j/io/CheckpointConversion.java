package org.paligemma4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.paligemma4j.tensor.HalfFloats;

/**
 * Copies a Hugging Face model directory with its floating-point tensors stored in another element type (e.g. the
 * float32 checkpoint a training run writes, as bf16 for publishing at half the size). Tensor names, shapes, the order
 * of the tensors, the files' metadata and every other file (tokenizer, processor) are kept; integer tensors are copied
 * as they are. The config keeps every setting but the dtype it declares ({@code torch_dtype}, or {@code dtype} as newer
 * Transformers write it), which names the new element type, so that loading it with dtype "auto" gives the stored
 * type. bf16 and f16 are rounded to nearest, ties to even, as PyTorch's {@code tensor.to(dtype)}.
 */
public final class CheckpointConversion {
    private CheckpointConversion() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The element types a checkpoint can be converted to. */
    public static final List<DType> TARGETS = List.of(DType.F32, DType.BF16, DType.F16);

    /** Converts every {@code *.safetensors} file of {@code source} into {@code target}; returns the bytes of tensor data written. */
    public static long convert(Path source, Path target, DType dtype) throws IOException {
        if (!TARGETS.contains(dtype)) throw new IllegalArgumentException("cannot convert to " + dtype + ": use one of " + TARGETS);
        if (!Files.isDirectory(source)) throw new IOException(source + ": not a model directory");
        if (Files.exists(target) && Files.isSameFile(source, target)) throw new IOException(target + ": the output must be another directory than the model");
        List<Path> files;
        try (Stream<Path> s = Files.list(source)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        if (files.stream().noneMatch(f -> f.getFileName().toString().endsWith(".safetensors"))) {
            throw new IOException(source + ": no .safetensors weights to convert");
        }
        Files.createDirectories(target);
        long total = 0;
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.endsWith(".safetensors")) total += convertFile(f, target.resolve(name), dtype);
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.endsWith(".safetensors")) continue;
            if (name.endsWith(".safetensors.index.json")) writeIndex(f, target.resolve(name), total);
            else if (name.equals("config.json")) writeConfig(f, target.resolve(name), dtype);
            else Files.copy(f, target.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        return total;
    }

    private static long convertFile(Path from, Path to, DType dtype) throws IOException {
        try (SafetensorsFile file = SafetensorsFile.open(from)) {
            List<SafeTensor> tensors = new ArrayList<>(file.tensors().values());
            tensors.sort((a, b) -> Long.compare(a.data().address(), b.data().address())); // the stored order
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (SafeTensor t : tensors) {
                if (!t.dtype().isFloatingPoint() || t.dtype() == dtype) {
                    entries.add(new SafetensorsWriter.Entry(t.name(), t.dtype(), t.shape(), SafetensorsWriter.Content.copyOf(t.data())));
                } else {
                    entries.add(new SafetensorsWriter.Entry(t.name(), dtype, t.shape(), converted(t, dtype)));
                }
            }
            SafetensorsWriter.write(to, entries, file.metadata());
            long bytes = 0;
            for (SafetensorsWriter.Entry e : entries) bytes += e.byteLength();
            return bytes;
        }
    }

    /** The tensor's values, read as floats and written in {@code dtype}, a chunk at a time. */
    private static SafetensorsWriter.Content converted(SafeTensor t, DType dtype) {
        int size = dtype.byteSize();
        return (offset, out) -> {
            out.order(ByteOrder.LITTLE_ENDIAN);
            int n = out.remaining() / size;
            float[] values = new float[n];
            t.readFloats(offset / size, values, 0, n);
            for (float v : values) {
                switch (dtype) {
                    case F32 -> out.putFloat(v);
                    case BF16 -> out.putShort(HalfFloats.floatToBf16(v));
                    case F16 -> out.putShort(HalfFloats.floatToF16(v));
                    default -> throw new IllegalStateException(dtype.name());
                }
            }
        };
    }

    /** The config with its declared dtype, at the top and in any sub-config that declares one, set to {@code dtype}. */
    private static void writeConfig(Path from, Path to, DType dtype) throws IOException {
        JsonNode config = readJson(from, "config");
        if (!(config instanceof ObjectNode root)) throw new IOException(from + ": not a JSON object");
        String name = torchName(dtype);
        boolean declared = declareDtype(root, name);
        if (!declared) root.put("torch_dtype", name);
        root.properties().forEach(e -> {
            if (e.getValue() instanceof ObjectNode sub && sub.has("model_type")) declareDtype(sub, name);
        });
        JSON.writerWithDefaultPrettyPrinter().writeValue(to.toFile(), root);
    }

    private static boolean declareDtype(ObjectNode config, String name) {
        boolean declared = false;
        for (String key : List.of("torch_dtype", "dtype")) {
            if (config.has(key)) {
                config.put(key, name);
                declared = true;
            }
        }
        return declared;
    }

    /** PyTorch's name of an element type, as Hugging Face configs write it. */
    static String torchName(DType dtype) {
        return switch (dtype) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> throw new IllegalArgumentException("no PyTorch dtype name for " + dtype);
        };
    }

    /** A sharded checkpoint's index: the same weight map, its {@code metadata.total_size} the new total. */
    private static void writeIndex(Path from, Path to, long totalBytes) throws IOException {
        JsonNode index = readJson(from, "index");
        if (index instanceof ObjectNode o && o.get("metadata") instanceof ObjectNode m && m.has("total_size")) {
            m.put("total_size", totalBytes);
        }
        JSON.writeValue(to.toFile(), index);
    }

    private static JsonNode readJson(Path file, String what) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not a readable " + what + ": " + e.getMessage(), e);
        }
    }
}
