package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.Generator;
import org.paligemma4j.io.BigVisionFixtures;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.tensor.WeightFormat;
import org.paligemma4j.testing.Golden;

/**
 * The big_vision {@code .npz} twins of the four golden models (same weights, big_vision's layout) against the
 * goldens, stage by stage and with the tolerances of {@link GoldenParityTest}. Loaded alone, an npz has the
 * vocabulary big_vision knows (2,176 = text + loc + seg tokens): its logits must equal the goldens' first 2,176
 * columns. With the fixture's HF-only extra embedding rows appended (the converter sampled them at random, so
 * they cannot come from the npz), every golden applies unchanged: all columns, greedy ids, losses.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BigVisionGoldenParityTest {
    private static final Map<String, PaliGemmaModel> NPZ = new ConcurrentHashMap<>();
    private static final Map<String, PaliGemmaModel> WITH_HF_ROWS = new ConcurrentHashMap<>();
    static final int BIG_VISION_VOCAB = 2176;

    static Stream<Golden> cases() {
        return Golden.all().stream();
    }

    /** The npz alone, configured by the matching model directory's config.json. */
    static PaliGemmaModel npz(Golden g) {
        return NPZ.computeIfAbsent(g.model(), m -> PaliGemmaModel.open(ModelSource.of(BigVisionFixtures.npz(m))
                .withConfig(g.modelDir().resolve("config.json")), WeightFormat.AS_STORED));
    }

    static PaliGemmaModel withHfRows(Golden g) {
        return WITH_HF_ROWS.computeIfAbsent(g.model(), m -> PaliGemmaModel.open(BigVisionFixtures.withHfExtraRows(m),
                PaliGemmaConfig.load(g.modelDir()), WeightFormat.AS_STORED));
    }

    @AfterAll
    static void close() {
        NPZ.values().forEach(PaliGemmaModel::close);
        WITH_HF_ROWS.values().forEach(PaliGemmaModel::close);
        NPZ.clear();
        WITH_HF_ROWS.clear();
    }

    /** Columns [0, vocab) of each row of {@code [rows, fullVocab]} logits. */
    static float[] leadingColumns(float[] logits, int fullVocab, int vocab) {
        int rows = logits.length / fullVocab;
        float[] out = new float[rows * vocab];
        for (int r = 0; r < rows; r++) System.arraycopy(logits, r * fullVocab, out, r * vocab, vocab);
        return out;
    }

    static float[] logits(PaliGemmaModel m, Golden g, SlidingWindowSemantics semantics) {
        int[] ids = g.ints("input_ids");
        float[] x = m.embedPrompt(ids, GoldenParityTest.goldenImage(g));
        m.decode(x, ids.length, m.newCache(ids.length), g.entry().get("prefix_len").asInt(), semantics, null);
        return m.logits(x, 0, ids.length);
    }

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stage1_visionAndProjectorMatch(Golden g) {
        var image = npz(g).encodeImage(g.floats("pixel_values"));
        Golden.assertClose(g.floats("vision_last_hidden_state"), image.visionHiddenState(), 1e-5, g + " npz vision_last_hidden_state");
        Golden.assertClose(g.floats("image_features_projected"), image.projected(), 1e-5, g + " npz image_features_projected");
        Golden.assertClose(g.floats("image_features_scaled"), image.scaled(), 1e-5, g + " npz image_features_scaled");
    }

    @Order(2)
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stage2_everyDecoderLayerMatches(Golden g) {
        PaliGemmaModel m = npz(g);
        int[] ids = g.ints("input_ids");
        int perState = ids.length * m.config().text().hiddenSize();
        float[] expected = g.floats("decoder_hidden_states");
        List<float[]> states = new ArrayList<>();
        float[] x = m.embedPrompt(ids, GoldenParityTest.goldenImage(g));
        m.decode(x, ids.length, m.newCache(ids.length), g.entry().get("prefix_len").asInt(), GoldenParityTest.forwardSemantics(g),
                (index, h, tokens) -> states.add(h));
        assertEquals(expected.length / perState, states.size(), "number of hidden states");
        for (int s = 0; s < states.size(); s++) {
            Golden.assertClose(Arrays.copyOfRange(expected, s * perState, (s + 1) * perState), states.get(s), 2e-4,
                    g + " npz decoder hidden state " + s);
        }
    }

    @Order(3)
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stage3_logitsMatchOnTheBigVisionVocabularyAndInFullWithTheHfRows(Golden g) {
        PaliGemmaModel alone = npz(g);
        assertEquals(BIG_VISION_VOCAB, alone.vocabSize(), "an npz's vocabulary is its embedding's rows");
        float[] golden = g.floats("logits");
        int fullVocab = withHfRows(g).vocabSize();
        Golden.assertClose(leadingColumns(golden, fullVocab, BIG_VISION_VOCAB),
                logits(alone, g, GoldenParityTest.forwardSemantics(g)), 2e-4, g + " npz logits [0, 2176)");
        Golden.assertClose(golden, logits(withHfRows(g), g, GoldenParityTest.forwardSemantics(g)), 2e-4, g + " npz + HF rows logits");
        if (g.has("logits_hf_latest")) {
            Golden.assertClose(g.floats("logits_hf_latest"), logits(withHfRows(g), g, SlidingWindowSemantics.TRANSFORMERS), 2e-4,
                    g + " npz + HF rows logits_hf_latest");
        }
    }

    @Order(4)
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stage4_teacherForcedStepLogitsMatch(Golden g) {
        int[] golden = g.ints("generated_ids");
        var options = GenerationOptions.defaults().withSlidingWindow(GoldenParityTest.forwardSemantics(g));
        float[] expected = g.floats("generate_step_logits");
        PaliGemmaModel full = withHfRows(g);
        int vocab = full.vocabSize();
        var request = new Generator.Request(GoldenParityTest.generationPrompt(g), GoldenParityTest.goldenImage(g), options, true, golden);
        var withRows = new Generator(full, full.config().eosTokenIds()).generate(request, null);
        // The npz alone cannot be fed ids past its vocabulary (the HF padding rows the tiny goldens do pick): it is
        // compared up to the first such forced id.
        int inVocabulary = 0;
        while (inVocabulary < golden.length && golden[inVocabulary] < BIG_VISION_VOCAB) inVocabulary++;
        int steps = Math.min(golden.length, inVocabulary + 1);
        var alone = new Generator(npz(g), full.config().eosTokenIds()).generate(new Generator.Request(
                GoldenParityTest.generationPrompt(g), GoldenParityTest.goldenImage(g), options, true,
                Arrays.copyOf(golden, steps)), null);
        for (int step = 0; step < golden.length; step++) {
            float[] want = Arrays.copyOfRange(expected, step * vocab, (step + 1) * vocab);
            Golden.assertClose(want, withRows.stepLogits().get(step), 2e-4, g + " npz + HF rows step " + step + " logits");
            if (step < steps) {
                Golden.assertClose(Arrays.copyOf(want, BIG_VISION_VOCAB), alone.stepLogits().get(step), 2e-4,
                        g + " npz step " + step + " logits [0, 2176)");
            }
        }
    }

    @Order(5)
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stage5_greedyGenerationAndLossMatch(Golden g) {
        PaliGemmaModel m = withHfRows(g);
        var options = GenerationOptions.defaults().withMaxNewTokens(g.entry().get("generation").get("max_new_tokens").asInt());
        int[] ids = new Generator(m, m.config().eosTokenIds()).generate(new Generator.Request(GoldenParityTest.generationPrompt(g),
                GoldenParityTest.goldenImage(g), options, false, null), null).ids();
        int comparable = g.comparableGreedySteps();
        assertTrue(ids.length >= comparable, g + " generated only " + ids.length + " tokens");
        assertArrayEquals(Arrays.copyOf(g.expectedGreedyIds(), comparable), Arrays.copyOf(ids, comparable), g + " npz greedy ids");
        if (!g.entry().get("loss").isNull()) {
            int[] input = g.ints("input_ids");
            float[] logits = logits(m, g, SlidingWindowSemantics.TRANSFORMERS);
            assertEquals(g.entry().get("loss").asDouble(), SuffixLoss.of(logits, input, g.entry().get("prefix_len").asInt(),
                    m.vocabSize()), 1e-4, g + " npz loss");
        }
    }

    private static String withoutArrays(Object record) {
        return record.toString().replaceAll("\\[[A-Z]@[0-9a-f]+", "[…");
    }

    @Test
    void paliGemma1ConfigInferredFromTheShapesReproducesTheGoldens() {
        List<String> notes = new ArrayList<>();
        Golden g = Golden.cases("paligemma-tiny").get(0);
        try (PaliGemmaModel m = PaliGemmaModel.open(ModelSource.of(BigVisionFixtures.npz("paligemma-tiny")).withNotes(notes::add),
                WeightFormat.AS_STORED)) {
            PaliGemmaConfig fixture = PaliGemmaConfig.load(g.modelDir());
            assertEquals(fixture.vision(), m.config().vision());
            assertEquals(withoutArrays(fixture.text().withVocabSize(BIG_VISION_VOCAB)), withoutArrays(m.config().text()));
            assertArrayEquals(fixture.text().slidingLayers(), m.config().text().slidingLayers());
            assertEquals(2176, m.config().imageTokenIndex());
            assertTrue(String.join("\n", notes).contains("PaliGemma 1"), String.join("\n", notes));
            Golden.assertClose(leadingColumns(g.floats("logits"), 2240, BIG_VISION_VOCAB),
                    logits(m, g, SlidingWindowSemantics.TRANSFORMERS), 2e-4, g + " logits with the inferred config");
        }
    }

    @Test
    void paliGemma2IsRecognisedByItsExtraNormsAndGetsTheGemma2Settings() {
        List<String> notes = new ArrayList<>();
        try (PaliGemmaModel m = PaliGemmaModel.open(ModelSource.of(BigVisionFixtures.npz("paligemma2-tiny-bf16")).withNotes(notes::add),
                WeightFormat.AS_STORED)) {
            var t = m.config().text();
            assertTrue(t.isGemma2());
            assertEquals(4, t.numHiddenLayers());
            assertEquals(4, t.numAttentionHeads());
            assertEquals(2, t.numKeyValueHeads());
            assertEquals(24, t.headDim());
            assertEquals(128, t.intermediateSize());
            assertEquals(50.0, t.attnLogitSoftcap());
            assertEquals(30.0, t.finalLogitSoftcap());
            assertEquals(4096, t.slidingWindow());
            assertEquals(24.0, t.queryPreAttnScalar());
            assertEquals(56, m.config().vision().imageSize());
            assertEquals("bfloat16", m.config().torchDtype());
            String text = String.join("\n", notes);
            assertTrue(text.contains("soft caps 50/30") && text.contains("sliding window 4096") && text.contains("PaliGemma 2"), text);
        }
    }
}
