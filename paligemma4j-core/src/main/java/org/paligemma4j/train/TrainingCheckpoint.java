package org.paligemma4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.paligemma4j.io.CheckpointException;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.io.SafetensorsFile;
import org.paligemma4j.io.SafetensorsWriter;
import org.paligemma4j.model.Param;

/**
 * A resumable snapshot of a training run, one folder: {@code parameters.safetensors} (every trained
 * tensor, float32), {@code optimizer.safetensors} (AdamW's step and moments) and
 * {@code trainer_state.json} (the step reached and the options that decide the rest of the run). For a
 * LoRA run the folder also holds the adapter in PEFT's layout, so it doubles as an adapter directory.
 * Everything a step depends on is in these files or derived from the step number, so resuming gives the
 * same final weights, bit for bit, as a run that was never interrupted.
 */
public final class TrainingCheckpoint {
    public static final String PARAMETERS = "parameters.safetensors", OPTIMIZER = "optimizer.safetensors",
            STATE = "trainer_state.json";

    private TrainingCheckpoint() {}

    public static void save(Path dir, AdamW optimizer, Trainer.Options options, int step) throws IOException {
        Files.createDirectories(dir);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Param p : optimizer.parameters()) {
            entries.add(new SafetensorsWriter.Entry(p.name(), DType.F32, p.shape(), SafetensorsWriter.Content.ofFloats(p.value())));
        }
        SafetensorsWriter.write(dir.resolve(PARAMETERS), entries, Map.of("format", "pt"));
        optimizer.saveState(dir.resolve(OPTIMIZER));
        ObjectNode state = new ObjectMapper().createObjectNode();
        state.put("step", step);
        state.put("batch_size", options.batchSize());
        state.put("shuffle", options.shuffle());
        state.put("seed", options.seed());
        Files.writeString(dir.resolve(STATE), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(state));
    }

    /**
     * Restores parameters and optimizer state from {@code dir} and returns the step it was saved at. The
     * options that decide which examples and random draws come next must equal the saved ones.
     */
    public static int restore(Path dir, AdamW optimizer, Trainer.Options options) throws IOException {
        Path stateFile = dir.resolve(STATE);
        if (!Files.isRegularFile(stateFile)) throw new CheckpointException(stateFile + ": not found (not a training checkpoint?)");
        JsonNode state = new ObjectMapper().readTree(stateFile.toFile());
        if (state == null || !state.has("step") || !state.get("step").canConvertToInt()) {
            throw new CheckpointException(stateFile + ": no \"step\"");
        }
        check(stateFile, "batch_size", state, options.batchSize());
        check(stateFile, "seed", state, options.seed());
        if (state.has("shuffle") && state.get("shuffle").asBoolean() != options.shuffle()) {
            throw new CheckpointException(stateFile + ": saved with shuffle " + state.get("shuffle").asBoolean()
                    + "; resume with the same setting to continue the same run");
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(PARAMETERS))) {
            for (Param p : optimizer.parameters()) {
                SafeTensor t = f.tensors().get(p.name());
                if (t == null) throw new CheckpointException(f.path() + ": no tensor '" + p.name() + "'");
                if (t.dtype() != DType.F32 || !java.util.Arrays.equals(t.shape(), p.shape())) {
                    throw new CheckpointException(f.path() + ": '" + p.name() + "' is " + t.dtype() + " " + t.shapeString()
                            + ", expected F32 " + java.util.Arrays.toString(p.shape()));
                }
                t.readFloats(0, p.value(), 0, p.value().length);
            }
        }
        optimizer.loadState(dir.resolve(OPTIMIZER));
        int step = state.get("step").asInt();
        if (step != optimizer.steps()) {
            throw new CheckpointException(dir + ": trainer state says step " + step + " but the optimizer state " + optimizer.steps());
        }
        return step;
    }

    private static void check(Path file, String key, JsonNode state, long expected) {
        if (state.has(key) && state.get(key).asLong() != expected) {
            throw new CheckpointException(file + ": saved with " + key + " " + state.get(key).asLong() + ", not " + expected
                    + "; resume with the same setting to continue the same run");
        }
    }
}
