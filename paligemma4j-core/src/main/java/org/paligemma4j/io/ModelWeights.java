package org.paligemma4j.io;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's tensors bound to a config: every tensor the model needs is present with the shape the
 * config implies, none is left over, and names are canonical ({@link WeightNames}). Binding reports
 * all problems at once, so a wrong checkpoint is diagnosed in one run.
 */
public final class ModelWeights {
    private final PaliGemmaConfig config;
    private final Map<String, SafeTensor> byName;

    private ModelWeights(PaliGemmaConfig config, Map<String, SafeTensor> byName) {
        this.config = config;
        this.byName = byName;
    }

    public static ModelWeights bind(Checkpoint checkpoint, PaliGemmaConfig config) {
        if (config.projectionDim() != config.text().hiddenSize()) {
            throw new CheckpointException(checkpoint.directory() + "/config.json: projection_dim "
                    + config.projectionDim() + " differs from text_config.hidden_size " + config.text().hiddenSize()
                    + "; the projector must produce decoder-width embeddings");
        }
        Map<String, long[]> expected = WeightNames.expected(config);
        Map<String, SafeTensor> canonical = new LinkedHashMap<>();
        List<String> unexpected = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        List<String> badType = new ArrayList<>();
        for (Map.Entry<String, SafeTensor> e : checkpoint.tensors().entrySet()) {
            String name = WeightNames.canonical(e.getKey());
            SafeTensor t = e.getValue();
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
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            if (!canonical.containsKey(e.getKey())) missing.add(e.getKey() + " " + Arrays.toString(e.getValue()));
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !misShaped.isEmpty() || !badType.isEmpty()) {
            StringBuilder msg = new StringBuilder(checkpoint.directory() + ": weights do not match config.json");
            appendList(msg, "missing", missing);
            appendList(msg, "unexpected", unexpected);
            appendList(msg, "mis-shaped", misShaped);
            appendList(msg, "not floating point", badType);
            throw new CheckpointException(msg.toString());
        }
        return new ModelWeights(config, Collections.unmodifiableMap(canonical));
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
        if (t == null) throw new IllegalArgumentException("no bound tensor '" + canonicalName + "'");
        return t;
    }

    public Map<String, SafeTensor> all() {
        return byName;
    }
}
