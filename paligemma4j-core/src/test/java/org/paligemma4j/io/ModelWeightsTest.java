package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.testing.Fixtures;

class ModelWeightsTest {

    @TempDir
    Path tmp;

    static Stream<String> models() {
        return Stream.of(Fixtures.MODELS);
    }

    @ParameterizedTest
    @MethodSource("models")
    void fixtureModelsBindCompletely(String model) {
        PaliGemmaConfig config = PaliGemmaConfig.load(Fixtures.path(model));
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.path(model))) {
            ModelWeights w = ModelWeights.bind(ckpt, config);
            assertEquals(WeightNames.expected(config).keySet(), w.all().keySet());
        }
    }

    /** Rewrites the fixture's single safetensors with renamed/dropped/reshaped tensors into {@code dir}. */
    private Path rewritten(String model, UnaryOperator<String> rename, String drop, String reshape, String add) throws IOException {
        Path dir = tmp.resolve(model + "-" + System.nanoTime());
        Files.createDirectories(dir);
        Files.copy(Fixtures.path(model, "config.json"), dir.resolve("config.json"));
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.path(model, "model.safetensors"))) {
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (SafeTensor t : f.tensors().values()) {
                if (t.name().equals(drop)) continue;
                long[] shape = t.shape();
                if (t.name().equals(reshape)) shape = new long[] {shape[0] * shape[1]};
                entries.add(new SafetensorsWriter.Entry(rename.apply(t.name()), t.dtype(), shape,
                        SafetensorsWriter.Content.copyOf(t.data())));
                if (t.name().equals(add)) {
                    entries.add(new SafetensorsWriter.Entry("extra.weight", t.dtype(), t.shape(),
                            SafetensorsWriter.Content.copyOf(t.data())));
                }
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), entries, Map.of("format", "pt"));
        }
        return dir;
    }

    @Test
    void newerTransformersKeyLayoutBindsToTheSameTensors() throws IOException {
        Path dir = rewritten("paligemma2-tiny", n -> n
                .replace("language_model.model.", "model.language_model.")
                .replace("vision_tower.", "model.vision_tower.")
                .replace("multi_modal_projector.", "model.multi_modal_projector."), null, null, null);
        PaliGemmaConfig config = PaliGemmaConfig.load(dir);
        try (Checkpoint renamed = Checkpoint.open(dir); Checkpoint original = Checkpoint.open(Fixtures.path("paligemma2-tiny"))) {
            ModelWeights a = ModelWeights.bind(renamed, config);
            ModelWeights b = ModelWeights.bind(original, config);
            for (String name : b.all().keySet()) {
                assertEquals(b.get(name).data().byteSize(), a.get(name).data().byteSize());
                assertEquals(b.get(name).getFloat(0), a.get(name).getFloat(0), name);
            }
        }
    }

    @Test
    void bindingListsMissingUnexpectedAndMisShapedTensors() throws IOException {
        Path dir = rewritten("paligemma-tiny", n -> n,
                "language_model.model.layers.1.mlp.up_proj.weight",
                "multi_modal_projector.linear.weight",
                "language_model.model.norm.weight");
        PaliGemmaConfig config = PaliGemmaConfig.load(dir);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> ModelWeights.bind(ckpt, config));
            String msg = e.getMessage();
            assertTrue(msg.contains("missing (1):\n    language_model.model.layers.1.mlp.up_proj.weight [104, 48]"), msg);
            assertTrue(msg.contains("unexpected (1):\n    extra.weight [48]"), msg);
            assertTrue(msg.contains("mis-shaped (1):\n    multi_modal_projector.linear.weight is [1536], expected [48, 32]"), msg);
        }
    }
}
