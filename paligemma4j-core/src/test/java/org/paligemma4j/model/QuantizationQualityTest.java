package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.SyntheticCheckpoint;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.paligemma4j.tensor.Ops;
import org.paligemma4j.tensor.WeightFormat;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.Golden;

/**
 * Quantized weights against the unquantized model on every fixture case: the share of positions whose
 * top-1 token is unchanged, over the full-sequence logits of every case, and the largest logit error.
 */
class QuantizationQualityTest {

    @TempDir
    static Path tmp;

    /** Random-weight twins scaled like trained networks (±1/sqrt(fan-in)), of both tiny architectures. */
    static Path twin(String model) throws IOException {
        Path out = tmp.resolve(model + "-twin");
        if (!Files.isDirectory(out)) {
            SyntheticCheckpoint.write(new SyntheticCheckpoint.Options(Fixtures.path(model).toString(), out, DType.F32, 3,
                    Long.MAX_VALUE, null), null);
        }
        return out;
    }

    /**
     * The fixture models themselves are chaotic (weights with std up to 1, hidden states up to ±26): the
     * reference's own bf16 rounding of their weights, a smaller perturbation than int8, already changes
     * the top-1 token at 10 of 203 positions. These floors pin today's measured quality so a kernel or
     * quantizer regression shows (2026-12-07, with {@link QuantizationRecipe}'s q4: q8 88.2%, q4 41.6%).
     */
    @ParameterizedTest(name = "{0} on the fixture models agrees on ≥ {1} of positions")
    @CsvSource({"Q8, 0.85", "Q4, 0.35"})
    void topOneAgreementOnTheChaoticFixtureModels(WeightFormat format, double floor) throws IOException {
        measure(format, floor, java.util.Arrays.stream(Fixtures.MODELS).map(Fixtures::path).toList());
    }

    /**
     * On well-scaled random twins the logit error is small, but random models have almost no confident
     * predictions (top-2 margins of 1e-3), so top-1 agreement still measures noise; the bound here is on
     * the logit error itself.
     */
    @ParameterizedTest(name = "{0} on well-scaled twins: max logit error ≤ {1}")
    @CsvSource({"Q8, 0.05", "Q4, 0.25"})
    void logitErrorOnWellScaledTwins(WeightFormat format, double maxError) throws IOException {
        double worst = measure(format, 0, List.of(twin("paligemma-tiny"), twin("paligemma2-tiny")));
        assertTrue(worst <= maxError, format + " max logit error " + worst + " > " + maxError);
    }

    /** Prints and checks top-1 agreement; returns the largest logit error. */
    static double measure(WeightFormat format, double required, List<Path> modelDirs) throws IOException {
        int positions = 0, agree = 0;
        double worst = 0;
        StringBuilder report = new StringBuilder();
        for (Path dir : modelDirs) {
            String model = dir.getFileName().toString();
            String goldenModel = model.replace("-twin", "");
            try (PaliGemmaModel reference = PaliGemmaModel.open(dir);
                 PaliGemmaModel quantized = PaliGemmaModel.open(dir, format)) {
                int vocab = reference.vocabSize();
                int modelPositions = 0, modelAgree = 0;
                double modelWorst = 0;
                for (Golden g : Golden.cases(goldenModel)) {
                    float[] pixels = g.floats("pixel_values");
                    int[] ids = g.ints("input_ids");
                    int prefix = g.entry().get("prefix_len").asInt();
                    float[] a = logits(reference, pixels, ids, prefix), b = logits(quantized, pixels, ids, prefix);
                    for (int t = 0; t < ids.length; t++) {
                        modelPositions++;
                        if (Ops.argmax(a, t * vocab, (t + 1) * vocab) == Ops.argmax(b, t * vocab, (t + 1) * vocab)) modelAgree++;
                    }
                    modelWorst = Math.max(modelWorst, Golden.maxAbsDiff(a, b, 0, a.length));
                }
                report.append(String.format(Locale.ROOT, "%n  %s %s: top-1 agreement %d/%d, max |logit diff| %.4f",
                        model, format, modelAgree, modelPositions, modelWorst));
                positions += modelPositions;
                agree += modelAgree;
                worst = Math.max(worst, modelWorst);
            }
        }
        double share = (double) agree / positions;
        System.out.printf(Locale.ROOT, "%s quality: top-1 agreement %.4f (%d/%d positions), max |logit diff| %.4f%s%n",
                format, share, agree, positions, worst, report);
        assertTrue(share >= required, format + " top-1 agreement " + share + " < " + required + report);
        return worst;
    }

    static float[] logits(PaliGemmaModel m, float[] pixels, int[] ids, int prefix) {
        var image = m.encodeImage(pixels);
        float[] x = m.embedPrompt(ids, image);
        m.decode(x, ids.length, m.newCache(ids.length), prefix, SlidingWindowSemantics.TRANSFORMERS, null);
        return m.logits(x, 0, ids.length);
    }
}
