package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.io.Checkpoint;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.io.SafetensorsFile;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.model.SlidingWindowSemantics;
import org.paligemma4j.model.SuffixLoss;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.TrainingCase;

/** merge-adapter: the merged model, run by the inference path, computes what the base model with the adapter computes. */
class MergeAdapterCommandTest {
    @TempDir
    Path out;

    static Stream<TrainingCase> cases() {
        return Stream.of(TrainingCase.MODELS).map(TrainingCase::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void mergedModelGivesTheAdaptedLoss(TrainingCase c) {
        CliRunner.Result r = CliRunner.run("merge-adapter", "--model", c.modelDir().toString(), "--adapter",
                c.dir().resolve("lora_init").toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (PaliGemmaModel merged = PaliGemmaModel.open(out)) {
            int[] ids = c.ids();
            float[] x = merged.embedPrompt(ids, merged.encodeImage(c.pixels()));
            merged.decode(x, ids.length, merged.newCache(ids.length), c.prefixLength(), SlidingWindowSemantics.TRANSFORMERS, null);
            double loss = SuffixLoss.of(merged.logits(x, 0, ids.length), ids, c.prefixLength(), merged.vocabSize());
            // The reference's loss with the adapter applied (not merged), and the base model's loss, which must differ.
            assertEquals(c.entry().get("lora").get("loss_initial_ref_f64").asDouble(), loss, 1e-5, c + " merged loss");
            assertTrue(Math.abs(c.entry().get("loss_ref_f64").asDouble() - loss) > 1e-2, "the adapter changes the model");
        }
    }

    @Test
    void bf16WeightsStayBf16AndOnlyAdaptedTensorsChange() throws IOException {
        TrainingCase c = TrainingCase.of("paligemma2-tiny");
        Path base = Fixtures.path("paligemma2-tiny-bf16");
        CliRunner.Result r = CliRunner.run("merge-adapter", "--model", base.toString(), "--adapter",
                c.dir().resolve("lora_init").toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (Checkpoint before = Checkpoint.open(base); // sharded
             SafetensorsFile after = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertEquals(before.tensors().keySet(), after.tensors().keySet());
            for (SafeTensor t : before.tensors().values()) {
                SafeTensor m = after.tensor(t.name());
                assertTrue(m != null, t.name());
                assertEquals(t.dtype(), m.dtype(), t.name());
                boolean adapted = t.name().matches("language_model\\.model\\.layers\\.\\d+\\.(self_attn|mlp)\\.\\w+_proj\\.weight");
                boolean same = java.util.Arrays.equals(t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        m.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                assertEquals(!adapted, same, t.name() + (adapted ? " is merged" : " is copied"));
            }
            assertEquals(DType.BF16, after.tensor("language_model.model.layers.0.self_attn.q_proj.weight").dtype());
        }
        assertFalse(CliRunner.run("merge-adapter", "--model", base.toString(), "--adapter", c.dir().resolve("lora_init").toString(),
                "--out", base.toString()).exitCode() == 0, "refuses to overwrite the model it reads");
    }

    @Test
    void mergingIntoAModelOfAnotherShapeIsAClearError() {
        TrainingCase c = TrainingCase.of("paligemma2-tiny");
        CliRunner.Result r = CliRunner.run("merge-adapter", "--model", Fixtures.path("paligemma-tiny").toString(), "--adapter",
                c.dir().resolve("lora_init").toString(), "--out", out.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("paligemma merge-adapter: ") && r.err().contains("adapter_model.safetensors"), r.err());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void generateWithAdapterEqualsGenerateOnTheMergedModel(TrainingCase c) {
        assertEquals(0, CliRunner.run("merge-adapter", "--model", c.modelDir().toString(), "--adapter",
                c.dir().resolve("lora_init").toString(), "--out", out.toString()).exitCode());
        String image = Fixtures.path(c.entry().get("image").asText()).toString(), prompt = c.entry().get("prompt").asText();
        CliRunner.Result adapted = CliRunner.run("generate", "--model", c.modelDir().toString(), "--adapter",
                c.dir().resolve("lora_init").toString(), "--image", image, "--prompt", prompt, "--max-new-tokens", "12", "--json");
        CliRunner.Result merged = CliRunner.run("generate", "--model", out.toString(), "--image", image, "--prompt", prompt,
                "--max-new-tokens", "12", "--json");
        CliRunner.Result base = CliRunner.run("generate", "--model", c.modelDir().toString(), "--image", image, "--prompt", prompt,
                "--max-new-tokens", "12", "--json");
        assertEquals(0, adapted.exitCode(), adapted.err());
        assertEquals(merged.out(), adapted.out(), "greedy ids with --adapter and on the merged model");
        assertFalse(base.out().equals(adapted.out()), "the adapter changes the output");
        CliRunner.Result task = CliRunner.run("caption", "--model", c.modelDir().toString(), "--adapter",
                c.dir().resolve("lora_init").toString(), image, "--max-new-tokens", "4");
        assertEquals(0, task.exitCode(), task.err());
        CliRunner.Result missing = CliRunner.run("generate", "--model", c.modelDir().toString(), "--adapter", out.resolve("nope").toString(),
                "--image", image, "--prompt", prompt);
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("adapter directory does not exist"), missing.err());
    }
}
