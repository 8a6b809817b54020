package org.paligemma4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.model.SlidingWindowSemantics;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.Golden;

/**
 * Every case of fixtures/multi_image: two images in one prompt, each through SigLIP on its own, all image tokens
 * first. Input ids identical, features within 1e-5, logits within 2e-4, greedy ids identical.
 */
class MultiImageTest {

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String model : List.of("paligemma-tiny", "paligemma2-tiny")) {
            JsonNode manifest = new ObjectMapper().readTree(Fixtures.path("multi_image", model, "manifest.json").toFile());
            for (JsonNode c : manifest.get("cases")) out.add(Arguments.of(model, c.get("name").asText(), c));
        }
        return out.stream();
    }

    private static List<RgbImage> images(JsonNode c) throws IOException {
        List<RgbImage> images = new ArrayList<>();
        for (JsonNode p : c.get("images")) images.add(ImageLoader.load(Fixtures.root().resolve(Path.of(p.asText()))));
        return images;
    }

    private static float[] npy(String model, String caseName, String file) throws IOException {
        return NpyArray.read(Fixtures.path("multi_image", model, caseName, file + ".npy")).toFloatArray();
    }

    private static int[] ids(String model, String caseName, String file) throws IOException {
        return NpyArray.read(Fixtures.path("multi_image", model, caseName, file + ".npy")).toIntArray();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void twoImagesMatchTheReference(String model, String caseName, JsonNode c) throws IOException {
        boolean gemma2 = model.startsWith("paligemma2");
        try (PaliGemma pg = PaliGemma.open(Fixtures.path(model))) {
            List<RgbImage> images = images(c);
            String text = c.get("processor_text").asText();
            var prepared = pg.prepare(images, text, 12);
            assertArrayEquals(ids(model, caseName, "input_ids"), prepared.ids(), "input ids");

            // Each image on its own through the vision tower, in image order.
            PaliGemmaModel m = pg.model();
            List<PaliGemmaModel.ImageEmbedding> parts = new ArrayList<>();
            for (RgbImage image : images) parts.add(m.encodeImage(pg.preprocessor().pixelValues(image)));
            var joined = PaliGemmaModel.ImageEmbedding.concat(parts);
            Golden.assertClose(npy(model, caseName, "vision_last_hidden_state"), joined.visionHiddenState(), 1e-5, caseName + " vision");
            Golden.assertClose(npy(model, caseName, "image_features_projected"), joined.projected(), 1e-5, caseName + " projected");

            int[] input = prepared.ids();
            if (gemma2) {
                Golden.assertClose(npy(model, caseName, "logits"), logits(m, input, joined, SlidingWindowSemantics.TRANSFORMERS_4_49), 2e-4,
                        caseName + " logits (transformers 4.49)");
                Golden.assertClose(npy(model, caseName, "logits_hf_latest"), logits(m, input, joined, SlidingWindowSemantics.TRANSFORMERS),
                        2e-4, caseName + " logits (current transformers)");
            } else {
                Golden.assertClose(npy(model, caseName, "logits"), logits(m, input, joined, SlidingWindowSemantics.TRANSFORMERS), 2e-4,
                        caseName + " logits");
            }

            var options = GenerationOptions.defaults().withMaxNewTokens(12);
            int[] expected = ids(model, caseName, gemma2 ? "generated_ids_hf_latest" : "generated_ids");
            assertArrayEquals(expected, pg.generate(images, text, options, null).ids(), "greedy ids (default semantics)");
            if (gemma2) {
                assertArrayEquals(ids(model, caseName, "generated_ids"),
                        pg.generate(images, text, options.withSlidingWindow(SlidingWindowSemantics.TRANSFORMERS_4_49), null).ids(),
                        "greedy ids (transformers 4.49)");
            }

            // Swapping the images changes the output, by as much as the reference says (logits ~4-6 apart; measured on
            // its logits.npy, whose semantics for PaliGemma 2 are transformers 4.49's).
            List<RgbImage> swapped = List.of(images.get(1), images.get(0));
            var swappedPrompt = pg.prepare(swapped, text, 12);
            var semantics = gemma2 ? SlidingWindowSemantics.TRANSFORMERS_4_49 : SlidingWindowSemantics.TRANSFORMERS;
            float[] a = logits(m, input, joined, semantics);
            float[] b = logits(m, swappedPrompt.ids(), PaliGemmaModel.ImageEmbedding.concat(List.of(parts.get(1), parts.get(0))),
                    semantics);
            double change = Golden.maxAbsDiff(a, b, 0, a.length);
            double reference = c.get("checks").get("logits_change_if_images_swapped").asDouble();
            assertTrue(Math.abs(change - reference) < 1e-3 * Math.max(1, reference) + 2e-4,
                    "swapping the images changes the logits by " + change + ", the reference by " + reference);
        }
    }

    private static float[] logits(PaliGemmaModel m, int[] ids, PaliGemmaModel.ImageEmbedding image, SlidingWindowSemantics s) {
        float[] x = m.embedPrompt(ids, image);
        m.decode(x, ids.length, m.newCache(ids.length), ids.length, s, null);
        return m.logits(x, 0, ids.length);
    }
}
