package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.tensor.Parallel;
import org.paligemma4j.testing.TrainingCase;

/**
 * A mini-batch through {@link PaliGemmaTraining#lossAndGradients(List, SlidingWindowSemantics, int)}: the
 * examples run side by side on a small model, and the gradients must be, bit for bit and whatever the
 * thread count, each example's gradient formed alone and added to the parameters' in batch order.
 */
class BatchTrainingTest {
    static Stream<TrainingCase> cases() {
        return Stream.of(TrainingCase.MODELS).map(TrainingCase::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void batchGradientsAreTheExamplesAddedInOrderWhateverTheThreads(TrainingCase c) {
        int threadsBefore = Parallel.threads();
        try (PaliGemmaTraining t = PaliGemmaTraining.open(c.modelDir(), null)) {
            // Five examples: the case's image scaled differently, and its prompt cut after 1 to 5 suffix tokens.
            List<PaliGemmaTraining.Example> batch = new ArrayList<>();
            int[] ids = c.ids();
            int suffix = ids.length - c.prefixLength();
            for (int i = 0; i < 5; i++) {
                float[] pixels = c.pixels().clone();
                for (int k = 0; k < pixels.length; k++) pixels[k] *= 1 - 0.1f * i;
                int length = c.prefixLength() + 1 + i % suffix;
                batch.add(new PaliGemmaTraining.Example(pixels, java.util.Arrays.copyOf(ids, length), c.prefixLength(), null));
            }
            int normalizer = 0;
            for (var e : batch) normalizer += t.lossTokens(e.ids(), e.prefixLength());

            List<Param> params = t.optimizedParameters();
            List<float[]> expected = new ArrayList<>();
            for (Param p : params) expected.add(new float[p.grad().length]);
            double expectedLoss = 0;
            for (var e : batch) {
                t.zeroGradients();
                expectedLoss += t.lossAndGradients(e.pixelValues(), e.ids(), e.prefixLength(), SlidingWindowSemantics.TRANSFORMERS,
                        normalizer, null);
                for (int k = 0; k < params.size(); k++) {
                    float[] g = params.get(k).grad(), sum = expected.get(k);
                    for (int i = 0; i < g.length; i++) sum[i] += g[i];
                }
            }
            for (int threads : new int[] {1, 2, 3, 1}) {
                Parallel.setThreads(threads);
                t.zeroGradients();
                double loss = t.lossAndGradients(batch, SlidingWindowSemantics.TRANSFORMERS, normalizer);
                assertEquals(expectedLoss, loss, 0, c + ": batch loss on " + threads + " threads");
                for (int k = 0; k < params.size(); k++) {
                    assertArrayEquals(expected.get(k), params.get(k).grad(), c + ": " + params.get(k).name() + " on " + threads + " threads");
                }
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
    }
}
