package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.paligemma4j.testing.Golden;

/**
 * How far our float32 forward pass is from the exact (float64) result, next to how far the reference's own
 * float32 is. For every golden case: the max |float32 − float64| of the vision features, the projected
 * features and the logits, ours and the reference's (its stored outputs), both against
 * {@link Float64Forward}; their ratio; and the manifest's {@code *_vs_npref} (the reference against the
 * fixtures' own NumPy float64), which the reference's column must reproduce: that checks the yardstick.
 *
 * <p>What is asserted: the yardstick; per case, our vision and projected features no further from float64
 * than 1.2× the reference's; per model, our logits' RMS error no larger than 1.2× the reference's. The
 * logits' max error of a single case is printed but not asserted: it is decided at one or two sensitive
 * positions (the image tokens of PaliGemma 1's 48-wide decoder), where two float32 computations of equal
 * accuracy land anywhere between 0.5× and 2× of each other; see the table.
 */
class Float64ErrorTest {
    /** Ours may be this much further from float64 than the reference's float32 is. */
    static final double RATIO = 1.2;
    /** The reference's distance to our float64 path and to the fixtures' NumPy float64 agree this closely. */
    static final double YARDSTICK = 0.05;

    private static final String[][] STAGES = {
        {"vision", "vision_last_hidden_state", "vision_vs_npref"},
        {"projected", "image_features_projected", "projected_vs_npref"},
        {"logits", "logits", "logits_vs_npref"}};

    @Test
    void float32ErrorIsWithinTheReferences() {
        List<String> failures = new ArrayList<>();
        StringBuilder table = new StringBuilder(String.format("%-44s %-9s %10s %10s %10s %6s %10s %10s%n",
                "case", "stage", "ours-f64", "ref-f64", "ref-npref", "ratio", "rms ours", "rms ref"));
        Map<String, double[]> logitRms = new LinkedHashMap<>(); // model → {Σ ours, Σ ref}
        String currentModel = null;
        Float64Forward exact = null;
        PaliGemmaModel model = null;
        try {
            for (Golden g : Golden.all()) {
                if (!g.model().equals(currentModel)) {
                    if (exact != null) exact.close();
                    if (model != null) model.close();
                    currentModel = g.model();
                    exact = new Float64Forward(g.modelDir());
                    model = PaliGemmaModel.open(g.modelDir());
                }
                float[] pixels = g.floats("pixel_values");
                int[] ids = g.ints("input_ids");
                int prefix = g.entry().get("prefix_len").asInt();
                SlidingWindowSemantics semantics = GoldenParityTest.forwardSemantics(g);

                Float64Forward.Result f64 = exact.forward(pixels, ids, prefix, semantics);
                var image = model.encodeImage(pixels);
                float[] x = model.embedPrompt(ids, image);
                model.decode(x, ids.length, model.newCache(ids.length), prefix, semantics, null);
                float[] logits = model.logits(x, 0, ids.length);

                float[][] ours = {image.visionHiddenState(), image.projected(), logits};
                double[][] exacts = {f64.vision(), f64.projected(), f64.logits()};
                for (int s = 0; s < STAGES.length; s++) {
                    float[] reference = g.floats(STAGES[s][1]);
                    double oursErr = maxAbsDiff(ours[s], exacts[s]), refErr = maxAbsDiff(reference, exacts[s]);
                    double oursRms = rms(ours[s], exacts[s]), refRms = rms(reference, exacts[s]);
                    double npref = g.entry().get("checks").get(STAGES[s][2]).asDouble();
                    double ratio = oursErr / refErr;
                    table.append(String.format("%-44s %-9s %10.3g %10.3g %10.3g %6.2f %10.3g %10.3g%n", g, STAGES[s][0],
                            oursErr, refErr, npref, ratio, oursRms, refRms));
                    if (!(Math.abs(refErr / npref - 1) <= YARDSTICK)) {
                        failures.add(g + " " + STAGES[s][0] + ": the reference is " + refErr + " from our float64 path but "
                                + npref + " from the fixtures' float64");
                    }
                    if (s < 2 && !(ratio <= RATIO)) failures.add(g + " " + STAGES[s][0] + String.format(" max ratio %.2f", ratio));
                    if (s == 2) {
                        double[] sums = logitRms.computeIfAbsent(g.model(), m -> new double[2]);
                        sums[0] += oursRms;
                        sums[1] += refRms;
                    }
                }
            }
        } finally {
            if (exact != null) exact.close();
            if (model != null) model.close();
        }
        for (var e : logitRms.entrySet()) {
            double ratio = e.getValue()[0] / e.getValue()[1];
            table.append(String.format("%s logits: mean rms error ours / reference's = %.2f%n", e.getKey(), ratio));
            if (!(ratio <= RATIO)) failures.add(e.getKey() + String.format(" logits rms ratio %.2f", ratio));
        }
        System.out.print(table);
        assertTrue(failures.isEmpty(), "float32 error above " + RATIO + "× the reference's: " + failures + "\n" + table);
    }

    static double rms(float[] f32, double[] f64) {
        double s = 0;
        for (int i = 0; i < f32.length; i++) s += (f32[i] - f64[i]) * (f32[i] - f64[i]);
        return Math.sqrt(s / f32.length);
    }

    static double maxAbsDiff(float[] f32, double[] f64) {
        if (f32.length != f64.length) throw new AssertionError(f32.length + " values against " + f64.length);
        double worst = 0;
        for (int i = 0; i < f32.length; i++) worst = Math.max(worst, Math.abs(f32[i] - f64[i]));
        return worst;
    }
}
