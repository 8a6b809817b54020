package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.paligemma4j.io.Checkpoint;
import org.paligemma4j.io.CheckpointException;
import org.paligemma4j.tensor.WeightFormat;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.Golden;

/** A quantized model saved and re-opened computes exactly what it computed before saving. */
class QuantizedCheckpointTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} as {1}")
    @CsvSource({"paligemma-tiny, Q8", "paligemma2-tiny-bf16, Q4", "paligemma2-tiny, Q8"})
    void savedQuantizedModelReopensWithIdenticalLogits(String model, WeightFormat format) throws IOException {
        Golden g = Golden.cases(model).getFirst();
        Path out = tmp.resolve(model + "-" + format);
        float[] before;
        try (PaliGemmaModel quantized = PaliGemmaModel.open(Fixtures.path(model), format)) {
            before = QuantizationQualityTest.logits(quantized, g.floats("pixel_values"), g.ints("input_ids"),
                    g.entry().get("prefix_len").asInt());
            QuantizedCheckpoint.save(quantized, out);
        }
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.model")) && Files.isRegularFile(out.resolve("config.json")));
        try (PaliGemmaModel reopened = PaliGemmaModel.open(out); PaliGemmaModel plain = PaliGemmaModel.open(Fixtures.path(model))) {
            float[] after = QuantizationQualityTest.logits(reopened, g.floats("pixel_values"), g.ints("input_ids"),
                    g.entry().get("prefix_len").asInt());
            assertArrayEquals(before, after, 0f);
            assertEquals(plain.matrices().size(), reopened.matrices().size());
        }
        try (Checkpoint saved = Checkpoint.open(out); Checkpoint original = Checkpoint.open(Fixtures.path(model))) {
            assertTrue(saved.dataBytes() < original.dataBytes(), saved.dataBytes() + " vs " + original.dataBytes());
        }
    }

    @Test
    void aHalfSavedPairIsReportedAsMissing() throws IOException {
        Path out = tmp.resolve("broken");
        try (PaliGemmaModel quantized = PaliGemmaModel.open(Fixtures.path("paligemma-tiny"), WeightFormat.Q8)) {
            QuantizedCheckpoint.save(quantized, out);
        }
        // Drop one scales tensor by rewriting the file without it.
        Path file = out.resolve(Checkpoint.SINGLE_FILE);
        Path copy = tmp.resolve("copy.safetensors");
        try (var f = org.paligemma4j.io.SafetensorsFile.open(file)) {
            var entries = new java.util.ArrayList<org.paligemma4j.io.SafetensorsWriter.Entry>();
            for (var t : f.tensors().values()) {
                if (t.name().equals("multi_modal_projector.linear.weight.q8.scales")) continue;
                entries.add(new org.paligemma4j.io.SafetensorsWriter.Entry(t.name(), t.dtype(), t.shape(),
                        org.paligemma4j.io.SafetensorsWriter.Content.copyOf(t.data())));
            }
            org.paligemma4j.io.SafetensorsWriter.write(copy, entries, java.util.Map.of("format", "pt"));
        }
        Files.move(copy, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        var e = assertThrows(CheckpointException.class, () -> PaliGemmaModel.open(out).close());
        assertTrue(e.getMessage().contains("multi_modal_projector.linear.weight.q8.scales (half of a quantized pair)"), e.getMessage());
    }
}
