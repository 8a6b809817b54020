package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.tensor.WeightFormat;
import org.paligemma4j.testing.TrainingCase;

/**
 * A LoRA adapter applied at inference (unmerged, as PEFT's lora.Linear) against the same adapter merged
 * into the weights, against the reference's adapted loss, and against the training forward pass.
 */
class AdapterInferenceTest {
    static Stream<TrainingCase> cases() {
        return Stream.of(TrainingCase.MODELS).map(TrainingCase::of);
    }

    /** Teacher-forced logits {@code [L, vocab]} of the case through the inference path. */
    static float[] logits(PaliGemmaModel m, TrainingCase c) {
        int[] ids = c.ids();
        float[] x = m.embedPrompt(ids, m.encodeImage(c.pixels()));
        m.decode(x, ids.length, m.newCache(ids.length), c.prefixLength(), SlidingWindowSemantics.TRANSFORMERS, null);
        return m.logits(x, 0, ids.length);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void adapterAtInferenceGivesTheMergedModelsLogits(TrainingCase c, @TempDir Path merged) throws IOException {
        LoraAdapter adapter = LoraAdapter.load(c.dir().resolve("lora_init"), PaliGemmaConfig.load(c.modelDir()));
        AdapterMerge.write(c.modelDir(), adapter, merged);
        float[] withAdapter, fromMerged;
        int vocab;
        try (PaliGemmaModel m = PaliGemmaModel.open(c.modelDir(), WeightFormat.AS_STORED, adapter)) {
            withAdapter = logits(m, c);
            vocab = m.vocabSize();
            assertEquals(c.entry().get("lora").get("loss_initial_ref_f64").asDouble(),
                    SuffixLoss.of(withAdapter, c.ids(), c.prefixLength(), vocab), 1e-5, "adapted loss");
        }
        try (PaliGemmaModel m = PaliGemmaModel.open(merged)) {
            fromMerged = logits(m, c);
        }
        double worst = 0;
        for (int i = 0; i < withAdapter.length; i++) worst = Math.max(worst, Math.abs(withAdapter[i] - fromMerged[i]));
        assertTrue(worst <= 1e-4, c + ": logits with the adapter vs merged differ by " + worst);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void visionAndProjectorAdaptersAgreeWithTheTrainingForward(TrainingCase c) {
        // SigLIP's q_proj and fc1 (the GELU path) and the projector, with random non-zero B.
        PaliGemmaConfig config = PaliGemmaConfig.load(c.modelDir());
        LoraAdapter adapter = LoraAdapter.create(config, c.model(), 2, 4, 0,
                "vision_tower\\.vision_model\\.encoder\\.layers\\.\\d+\\.(self_attn\\.q_proj|mlp\\.fc1)|multi_modal_projector\\.linear", 3);
        Random random = new Random(5);
        for (LoraAdapter.Module m : adapter.modules()) {
            float[] b = m.b().value();
            for (int i = 0; i < b.length; i++) b[i] = (float) (random.nextGaussian() * 0.3);
        }
        assertEquals(2 * config.vision().numHiddenLayers() + 1, adapter.modules().size());
        double inference;
        try (PaliGemmaModel m = PaliGemmaModel.open(c.modelDir(), WeightFormat.AS_STORED, adapter)) {
            inference = SuffixLoss.of(logits(m, c), c.ids(), c.prefixLength(), m.vocabSize());
        }
        try (PaliGemmaTraining t = PaliGemmaTraining.open(c.modelDir(), adapter)) {
            int[] ids = c.ids();
            double training = t.lossAndGradients(c.pixels(), ids, c.prefixLength(), SlidingWindowSemantics.TRANSFORMERS,
                    t.lossTokens(ids, c.prefixLength()), null);
            assertEquals(training, inference, 1e-5, "inference and training forward with the same adapter");
            assertTrue(Math.abs(training - c.entry().get("loss_ref_f64").asDouble()) > 1e-3, "the adapter changes the loss");
        }
    }
}
