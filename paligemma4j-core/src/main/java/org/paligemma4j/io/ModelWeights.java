package org.paligemma4j.io;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.paligemma4j.tensor.WeightFormat;

/**
 * A checkpoint's tensors bound to a config: every tensor the model needs is present with the shape the
 * config implies, none is left over, and names are canonical ({@link WeightNames}). Binding reports
 * all problems at once, so a wrong checkpoint is diagnosed in one run.
 */
public final class ModelWeights {
    /** Suffixes of a matrix saved quantized by paligemma4j: {@code name.q8} + {@code name.q8.scales} (or q4). */
    public static final String Q8 = ".q8", Q4 = ".q4", SCALES = ".scales";

    private final PaliGemmaConfig config;
    private final Map<String, SafeTensor> byName;
    private final Map<String, StoredQuantized> quantized;

    /**
     * A matrix saved already quantized, with the matrix shape it stands for.
     *
     * @param format  Q8 or Q4
     * @param weights int8 {@code [rows, cols]} or packed nibbles {@code [rows, blocks·16]}
     * @param scales  float32 {@code [rows, blocks]}, blocks = ceil(cols / 32)
     */
    public record StoredQuantized(WeightFormat format, SafeTensor weights, SafeTensor scales, int rows, int cols) {}

    private ModelWeights(PaliGemmaConfig config, Map<String, SafeTensor> byName, Map<String, StoredQuantized> quantized) {
        this.config = config;
        this.byName = byName;
        this.quantized = quantized;
    }

    public static ModelWeights bind(Checkpoint checkpoint, PaliGemmaConfig config) {
        return bind(checkpoint, config, defaultConfigName(checkpoint));
    }

    /** What a checkpoint's own config is called in messages: its directory's config.json. */
    public static String defaultConfigName(Checkpoint checkpoint) {
        return java.nio.file.Files.isDirectory(checkpoint.directory()) ? checkpoint.directory().resolve("config.json").toString()
                : "the config of " + checkpoint.directory();
    }

    /** Binds {@code checkpoint} to {@code config}; errors name the config as {@code configName} (a file, or where it came from). */
    public static ModelWeights bind(Checkpoint checkpoint, PaliGemmaConfig config, String configName) {
        if (config.projectionDim() != config.text().hiddenSize()) {
            throw new CheckpointException(configName + ": projection_dim "
                    + config.projectionDim() + " differs from text_config.hidden_size " + config.text().hiddenSize()
                    + "; the projector must produce decoder-width embeddings");
        }
        Map<String, long[]> expected = WeightNames.expected(config);
        Map<String, SafeTensor> canonical = new LinkedHashMap<>();
        List<String> unexpected = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        List<String> badType = new ArrayList<>();
        Map<String, SafeTensor[]> quantizedParts = new LinkedHashMap<>(); // base → {weights, scales}, .q8 or .q4
        Map<String, WeightFormat> quantizedFormat = new LinkedHashMap<>();
        for (Map.Entry<String, SafeTensor> e : checkpoint.tensors().entrySet()) {
            String name = WeightNames.canonical(e.getKey());
            SafeTensor t = e.getValue();
            String part = quantizedPart(name);
            if (part != null) {
                boolean scales = part.endsWith(SCALES);
                String suffix = scales ? part.substring(0, part.length() - SCALES.length()) : part;
                String base = name.substring(0, name.length() - part.length());
                WeightFormat format = suffix.equals(Q8) ? WeightFormat.Q8 : WeightFormat.Q4;
                WeightFormat previous = quantizedFormat.putIfAbsent(base, format);
                if (previous != null && previous != format) unexpected.add(e.getKey() + " (mixes q8 and q4 for " + base + ")");
                quantizedParts.computeIfAbsent(base, k -> new SafeTensor[2])[scales ? 1 : 0] = t;
                continue;
            }
            long[] shape = expected.get(name);
            if (shape == null) {
                if (!WeightNames.isOptional(name, config)) unexpected.add(e.getKey() + " " + t.shapeString());
                continue;
            }
            if (canonical.containsKey(name)) {
                unexpected.add(e.getKey() + " (duplicates " + name + " in the other key layout)");
                continue;
            }
            if (!Arrays.equals(shape, t.shape())) {
                misShaped.add(e.getKey() + " is " + t.shapeString() + ", expected " + Arrays.toString(shape));
            }
            if (!t.dtype().isFloatingPoint()) badType.add(e.getKey() + " has dtype " + t.dtype());
            canonical.put(name, t);
        }
        Map<String, StoredQuantized> quantized = new LinkedHashMap<>();
        for (Map.Entry<String, SafeTensor[]> e : quantizedParts.entrySet()) {
            String base = e.getKey();
            long[] shape = expected.get(base);
            SafeTensor weights = e.getValue()[0], scales = e.getValue()[1];
            WeightFormat format = quantizedFormat.get(base);
            String suffix = format == WeightFormat.Q8 ? Q8 : Q4;
            if (shape == null) {
                unexpected.add(base + suffix + " (quantized form of a tensor the model does not have)");
                continue;
            }
            if (canonical.containsKey(base)) {
                unexpected.add(base + suffix + " (the checkpoint also has " + base + ")");
                continue;
            }
            if (weights == null || scales == null) {
                missing.add(base + suffix + (weights == null ? "" : SCALES) + " (half of a quantized pair)");
                continue;
            }
            long rows = shape[0], cols = 1;
            for (int i = 1; i < shape.length; i++) cols *= shape[i];
            long blocks = (cols + 31) / 32;
            long[] wantWeights = format == WeightFormat.Q8 ? new long[] {rows, cols} : new long[] {rows, blocks * 16};
            DType wantType = format == WeightFormat.Q8 ? DType.I8 : DType.U8;
            if (!Arrays.equals(wantWeights, weights.shape()) || weights.dtype() != wantType) {
                misShaped.add(weights.name() + " is " + weights.dtype() + " " + weights.shapeString() + ", expected "
                        + wantType + " " + Arrays.toString(wantWeights));
            }
            if (!Arrays.equals(new long[] {rows, blocks}, scales.shape()) || scales.dtype() != DType.F32) {
                misShaped.add(scales.name() + " is " + scales.dtype() + " " + scales.shapeString() + ", expected F32 "
                        + Arrays.toString(new long[] {rows, blocks}));
            }
            quantized.put(base, new StoredQuantized(format, weights, scales, (int) rows, (int) cols));
        }
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            if (!canonical.containsKey(e.getKey()) && !quantized.containsKey(e.getKey())
                    && !quantizedParts.containsKey(e.getKey())) {
                missing.add(e.getKey() + " " + Arrays.toString(e.getValue()));
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !misShaped.isEmpty() || !badType.isEmpty()) {
            StringBuilder msg = new StringBuilder(checkpoint.directory() + ": weights do not match "
                    + (configName.equals(defaultConfigName(checkpoint)) ? "config.json" : configName));
            appendList(msg, "missing", missing);
            appendList(msg, "unexpected", unexpected);
            appendList(msg, "mis-shaped", misShaped);
            appendList(msg, "not floating point", badType);
            if (checkpoint.index() != null && !missing.isEmpty()) {
                msg.append("\n  (the shards hold the tensors that ").append(checkpoint.index()).append(" lists: ")
                        .append(checkpoint.tensors().size()).append(")");
            }
            throw new CheckpointException(msg.toString());
        }
        return new ModelWeights(config, Collections.unmodifiableMap(canonical), Collections.unmodifiableMap(quantized));
    }

    /** ".q8", ".q4", ".q8.scales" or ".q4.scales" when {@code name} ends with one, else null. */
    private static String quantizedPart(String name) {
        for (String suffix : new String[] {Q8 + SCALES, Q4 + SCALES, Q8, Q4}) {
            if (name.endsWith(suffix)) return suffix;
        }
        return null;
    }

    /** The saved quantized form of a matrix, or null when it is stored as plain floats. */
    public StoredQuantized quantized(String canonicalName) {
        return quantized.get(canonicalName);
    }

    private static void appendList(StringBuilder msg, String title, List<String> items) {
        if (items.isEmpty()) return;
        msg.append("\n  ").append(title).append(" (").append(items.size()).append("):");
        int shown = 0;
        for (String s : items) {
            if (shown++ == 20) {
                msg.append("\n    … and ").append(items.size() - 20).append(" more");
                break;
            }
            msg.append("\n    ").append(s);
        }
    }

    public PaliGemmaConfig config() {
        return config;
    }

    /** The tensor of a canonical name (see {@link WeightNames}). */
    public SafeTensor get(String canonicalName) {
        SafeTensor t = byName.get(canonicalName);
        if (t == null) {
            throw new IllegalArgumentException(quantized.containsKey(canonicalName)
                    ? "'" + canonicalName + "' is stored quantized; read it with quantized()"
                    : "no bound tensor '" + canonicalName + "'");
        }
        return t;
    }

    public Map<String, SafeTensor> all() {
        return byName;
    }
}
