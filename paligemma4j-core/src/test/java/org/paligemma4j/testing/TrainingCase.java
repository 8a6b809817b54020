package org.paligemma4j.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.io.SafetensorsFile;

/** One case of {@code training/<model>/}: inputs, reference loss and gradients, LoRA and AdamW files. */
public record TrainingCase(String model, String name, Path dir, JsonNode manifest, JsonNode entry) {
    public static final String[] MODELS = {"paligemma-tiny", "paligemma2-tiny"};

    public static TrainingCase of(String model) {
        try {
            JsonNode manifest = new ObjectMapper().readTree(Fixtures.path("training", model, "manifest.json").toFile());
            JsonNode c = manifest.get("cases").get(0);
            String name = c.get("name").asText();
            return new TrainingCase(model, name, Fixtures.path("training", model, name), manifest, c);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path modelDir() {
        return Fixtures.path(manifest.get("model_dir").asText());
    }

    public NpyArray npy(String file) {
        try {
            return NpyArray.read(dir.resolve(file + ".npy"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int[] ids() {
        return npy("input_ids").toIntArray();
    }

    public float[] pixels() {
        return npy("pixel_values").toFloatArray();
    }

    /** Suffix tokens the loss averages over. */
    public int lossTokens() {
        return entry.get("n_loss_tokens").asInt();
    }

    public int prefixLength() {
        return entry.get("prefix_len").asInt();
    }

    /** Every tensor of a safetensors file (F32 or F64) as doubles, by name in file order. */
    public static Map<String, double[]> tensors(Path file) {
        Map<String, double[]> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (SafeTensor t : f.tensors().values()) {
                double[] v = new double[(int) t.elementCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = switch (t.dtype()) {
                        case F64 -> t.data().get(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i * 8L);
                        default -> t.getFloat(i);
                    };
                }
                out.put(t.name(), v);
            }
        }
        return out;
    }

    public Map<String, double[]> tensors(String file) {
        return tensors(dir.resolve(file));
    }

    @Override
    public String toString() {
        return model + "/" + name;
    }
}
