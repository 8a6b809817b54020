package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.Prompt;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.testing.Fixtures;

/**
 * Gradients on a case the reference files do not cover: a Gemma 2 prompt longer than the sliding window,
 * under each window semantics, checked against central differences of the loss along a random direction
 * of whole tensors ({@code (L(θ + hu) − L(θ − hu)) / 2h ≈ ⟨∇L, u⟩}), u the gradient's own direction plus noise.
 */
class GradientFiniteDifferenceTest {
    static final String[] TENSORS = {
            "language_model.model.layers.0.self_attn.q_proj.weight", // a sliding-window layer
            "language_model.model.layers.1.self_attn.k_proj.weight", // a global layer
            "language_model.model.layers.0.post_feedforward_layernorm.weight",
            "language_model.model.embed_tokens.weight",
            "multi_modal_projector.linear.weight",
            "vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight",
            "vision_tower.vision_model.embeddings.position_embedding.weight"};

    @ParameterizedTest
    @EnumSource(SlidingWindowSemantics.class)
    void gradientsMatchFiniteDifferencesWithAPrefixLongerThanTheWindow(SlidingWindowSemantics semantics) throws IOException {
        var dir = Fixtures.path("paligemma2-tiny");
        float[] pixels;
        Prompt prompt;
        try (PaliGemma pg = PaliGemma.open(dir)) {
            pixels = pg.preprocessor().pixelValues(ImageLoader.load(Fixtures.path("images", "shapes_text.png")));
            prompt = pg.prompt("answer en what is written in the picture, and which shapes are drawn around the words there?",
                    "a circle and a square with some text");
        }
        int window = 29;
        assertTrue(prompt.prefixLength() > window + 5, "prefix " + prompt.prefixLength() + " exceeds the window");
        try (PaliGemmaTraining t = PaliGemmaTraining.open(dir, null)) {
            int[] ids = prompt.ids();
            int n = t.lossTokens(ids, prompt.prefixLength());
            t.lossAndGradients(pixels, ids, prompt.prefixLength(), semantics, n, null);
            Random random = new Random(11);
            for (String name : TENSORS) {
                Param p = t.trainedParameters().get(name);
                float[] value = p.value(), original = value.clone();
                // The direction: the gradient's own (scaled to unit entries) plus as much random noise, so that
                // the derivative along it is large against float32's rounding of the loss and still checks more
                // than the gradient's length.
                float[] g = p.grad(), u = new float[value.length];
                double gSq = 0;
                for (float v : g) gSq += (double) v * v;
                double gRms = Math.sqrt(gSq / u.length), analytic = 0;
                for (int i = 0; i < u.length; i++) {
                    u[i] = (float) (g[i] / gRms + random.nextGaussian());
                    analytic += (double) g[i] * u[i];
                }
                // A step that moves the loss by about 3e-3 each way: small enough for the loss to stay linear, a
                // thousand times float32's rounding of it.
                double h = 3e-3 / Math.abs(analytic);
                for (int i = 0; i < u.length; i++) value[i] = (float) (original[i] + h * u[i]);
                double plus = t.loss(pixels, ids, prompt.prefixLength(), semantics, n);
                for (int i = 0; i < u.length; i++) value[i] = (float) (original[i] - h * u[i]);
                double minus = t.loss(pixels, ids, prompt.prefixLength(), semantics, n);
                System.arraycopy(original, 0, value, 0, value.length);
                double numeric = (plus - minus) / (2 * h);
                // 2% for the truncation error, plus float32's rounding of the two losses (a few 1e-6) over 2h.
                assertTrue(Math.abs(numeric - analytic) <= 2e-2 * Math.abs(analytic) + 4e-6 / h,
                        semantics + " " + name + ": finite difference " + numeric + ", backward " + analytic);
            }
        }
    }
}
