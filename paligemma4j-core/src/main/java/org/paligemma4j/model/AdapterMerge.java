package org.paligemma4j.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.paligemma4j.io.Checkpoint;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.io.SafetensorsWriter;
import org.paligemma4j.io.WeightNames;
import org.paligemma4j.tensor.HalfFloats;

/**
 * Folds a LoRA adapter into the weights it adapts, as PEFT's {@code merge_and_unload}:
 * {@code W ← W + scaling·(B·A)}, the product formed in float32 and the sum stored in the weight's own
 * dtype (for bfloat16/float16 weights the delta is rounded to that dtype first, as PEFT casts it back).
 * The merged model then computes what the base model with the adapter computes.
 */
public final class AdapterMerge {
    private AdapterMerge() {}

    /** {@code W + scaling·B·A} of one module, {@code [out, in]}, from the float32 weight W. */
    static float[] merged(float[] weight, LoraAdapter.Module m, DType dtype) {
        long[] aShape = m.a().shape(), bShape = m.b().shape();
        int rank = (int) aShape[0], in = (int) aShape[1], out = (int) bShape[0];
        float[] a = m.a().value(), b = m.b().value();
        float scaling = m.scaling();
        float[] result = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                float product = 0;
                for (int k = 0; k < rank; k++) product += b[o * rank + k] * a[k * in + i];
                float delta = roundTo(dtype, product * scaling);
                result[o * in + i] = roundTo(dtype, weight[o * in + i] + delta);
            }
        }
        return result;
    }

    private static float roundTo(DType dtype, float v) {
        return switch (dtype) {
            case BF16 -> HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(v));
            case F16 -> HalfFloats.f16ToFloat(HalfFloats.floatToF16(v));
            default -> v;
        };
    }

    /**
     * Writes the model in {@code modelDir} with {@code adapter} merged into {@code outDir}: every file but
     * the weights copied, and one {@code model.safetensors} with every tensor under its original name and
     * dtype. Returns how many weights were merged.
     */
    public static int write(Path modelDir, LoraAdapter adapter, Path outDir) throws IOException {
        if (outDir.toAbsolutePath().normalize().equals(modelDir.toAbsolutePath().normalize())) {
            throw new IOException(outDir + ": the merged model must go to another folder than the model it is read from");
        }
        Files.createDirectories(outDir);
        int mergedCount = 0;
        try (Checkpoint checkpoint = Checkpoint.open(modelDir); var files = Files.list(modelDir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!Files.isRegularFile(f) || name.endsWith(".safetensors") || name.equals(Checkpoint.INDEX_FILE)) continue;
                Files.copy(f, outDir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (Map.Entry<String, SafeTensor> e : checkpoint.tensors().entrySet()) {
                SafeTensor t = e.getValue();
                LoraAdapter.Module m = adapter.forWeight(WeightNames.canonical(e.getKey()));
                if (m == null) {
                    entries.add(new SafetensorsWriter.Entry(e.getKey(), t.dtype(), t.shape(), SafetensorsWriter.Content.copyOf(t.data())));
                    continue;
                }
                if (!(t.dtype() == DType.F32 || t.dtype() == DType.BF16 || t.dtype() == DType.F16)) {
                    throw new IOException(t.file() + ": '" + e.getKey() + "' has dtype " + t.dtype() + "; only float weights can be merged");
                }
                float[] merged = merged(t.toFloatArray(), m, t.dtype());
                entries.add(new SafetensorsWriter.Entry(e.getKey(), t.dtype(), t.shape(), encode(merged, t.dtype())));
                mergedCount++;
            }
            if (mergedCount != adapter.modules().size()) {
                throw new IOException(modelDir + ": the adapter adapts " + adapter.modules().size() + " weights but only "
                        + mergedCount + " are in the checkpoint");
            }
            SafetensorsWriter.write(outDir.resolve(Checkpoint.SINGLE_FILE), entries, Map.of("format", "pt"));
        }
        return mergedCount;
    }

    private static SafetensorsWriter.Content encode(float[] values, DType dtype) {
        if (dtype == DType.F32) return SafetensorsWriter.Content.ofFloats(values);
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) bytes.putShort(dtype == DType.BF16 ? HalfFloats.floatToBf16(v) : HalfFloats.floatToF16(v));
        byte[] data = bytes.array();
        return (offset, out) -> out.put(data, (int) offset, out.remaining());
    }
}
