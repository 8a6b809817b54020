package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.testing.TrainingCase;

/**
 * Fine-tuning parity, as llm.c's test_gpt2.c: the loss and every gradient of one training step against
 * the float64 reference ({@code training/<model>/…/full_grads_f64.safetensors}). Gradients are compared
 * in the order the backward pass produces them (LM head and final norm, decoder layers from last to
 * first, projector, SigLIP from its last layer to the patch embedding), one stage per test, so the first
 * failure names the part whose backward is wrong.
 *
 * <p>Measure: max |ours − reference| over a tensor, divided by the tensor's largest reference gradient
 * (floored at 1e-4 of the model's largest gradient: SigLIP's key biases have an exactly zero gradient,
 * whose float32 value is rounding noise), must be ≤ 1e-4. The reference's own float32 run reaches
 * 1.3e-4 on this measure.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrainingParityTest {
    static final double GRAD_TOL = 1e-4, LOSS_TOL = 1e-5;

    record FullResult(double loss, Map<String, float[]> grads) {}

    private static final Map<String, FullResult> FULL = new ConcurrentHashMap<>();

    static FullResult full(TrainingCase c) {
        return FULL.computeIfAbsent(c.model(), m -> {
            try (PaliGemmaTraining t = PaliGemmaTraining.open(c.modelDir(), null)) {
                int[] ids = c.ids();
                double loss = t.lossAndGradients(c.pixels(), ids, c.prefixLength(), SlidingWindowSemantics.TRANSFORMERS,
                        t.lossTokens(ids, c.prefixLength()), null);
                Map<String, float[]> grads = new TreeMap<>();
                t.trainedParameters().forEach((name, p) -> grads.put(name, p.grad().clone()));
                return new FullResult(loss, grads);
            }
        });
    }

    static Stream<TrainingCase> cases() {
        return Stream.of(TrainingCase.MODELS).map(TrainingCase::of);
    }

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void lossMatchesReference(TrainingCase c) {
        FullResult r = full(c);
        assertEquals(c.entry().get("loss_ref_f64").asDouble(), r.loss(), LOSS_TOL, c + " loss");
        assertEquals(c.lossTokens(), full(c).grads().isEmpty() ? -1 : c.lossTokens(), "targets");
    }

    private static final Pattern LAYER = Pattern.compile("layers\\.(\\d+)\\.");

    /** Backward order: 0 LM head + final norm, then decoder layers last to first, projector, SigLIP last to first. */
    static String stageOf(String name, int textLayers, int visionLayers) {
        Matcher m = LAYER.matcher(name);
        int layer = m.find() ? Integer.parseInt(m.group(1)) : -1;
        if (name.startsWith("language_model.")) {
            return layer < 0 ? "00 decoder head (embedding, final norm)" : String.format("%02d decoder layer %d", 1 + textLayers - 1 - layer, layer);
        }
        if (name.startsWith("multi_modal_projector.")) return String.format("%02d projector", 1 + textLayers);
        if (name.contains("post_layernorm")) return String.format("%02d vision post-layernorm", 2 + textLayers);
        if (layer >= 0) return String.format("%02d vision layer %d", 3 + textLayers + visionLayers - 1 - layer, layer);
        return String.format("%02d vision embeddings", 3 + textLayers + visionLayers);
    }

    static Stream<Arguments> stages() {
        List<Arguments> out = new ArrayList<>();
        for (String model : TrainingCase.MODELS) {
            TrainingCase c = TrainingCase.of(model);
            Map<String, double[]> ref = c.tensors("full_grads_f64.safetensors");
            var config = org.paligemma4j.io.PaliGemmaConfig.load(c.modelDir());
            Map<String, List<String>> byStage = new TreeMap<>();
            for (String name : ref.keySet()) {
                byStage.computeIfAbsent(stageOf(name, config.text().numHiddenLayers(), config.vision().numHiddenLayers()),
                        k -> new ArrayList<>()).add(name);
            }
            byStage.forEach((stage, names) -> out.add(Arguments.of(c, stage.substring(3), names)));
        }
        return out.stream();
    }

    @Order(2)
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("stages")
    void gradientsMatchReference(TrainingCase c, String stage, List<String> names) {
        Map<String, double[]> ref = REF.computeIfAbsent(c.model(), m -> c.tensors("full_grads_f64.safetensors"));
        double globalMax = 0;
        for (double[] g : ref.values()) for (double v : g) globalMax = Math.max(globalMax, Math.abs(v));
        Map<String, float[]> ours = full(c).grads();
        assertEquals(ref.size(), ours.size(), c + ": number of gradient tensors");
        for (String name : names) {
            float[] got = ours.get(name);
            if (got == null) fail(c + ": no gradient for " + name);
            assertRelativeClose(ref.get(name), got, globalMax, c + " " + name);
        }
    }

    /** The worst relative difference seen per model (printed after the run, for the record). */
    private static final Map<String, Double> WORST = new ConcurrentHashMap<>();

    @org.junit.jupiter.api.AfterAll
    static void report() {
        WORST.forEach((model, rel) -> System.out.printf("%s: worst gradient difference %.3g of the tensor's largest%n", model, rel));
        FULL.forEach((model, r) -> System.out.printf("%s: loss %.9f%n", model, r.loss()));
    }

    private static final Map<String, Map<String, double[]>> REF = new ConcurrentHashMap<>();

    /** Fails unless max|expected − actual| ≤ GRAD_TOL · max(max|expected|, 1e-4·globalMax). */
    static void assertRelativeClose(double[] expected, float[] actual, double globalMax, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        double scale = 0, worst = 0;
        int at = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            double d = Math.abs(expected[i] - actual[i]);
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        scale = Math.max(scale, 1e-4 * globalMax);
        double rel = worst / scale;
        WORST.merge(what.substring(0, what.indexOf(' ')), rel, Math::max);
        assertTrue(rel <= GRAD_TOL, String.format("%s: max |diff| %.3g = %.3g of the tensor's largest gradient %.3g (tolerance %.0e) "
                + "at flat index %d (expected %.6g, got %.6g)", what, worst, rel, scale, GRAD_TOL, at, expected[at], actual[at]));
    }
}
