package org.paligemma4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.testing.Fixtures;

class TeacherForcingTest {

    /** Greedy decoding picks the top token at every step, so a model agrees with its own greedy output everywhere. */
    @Test
    void aModelsTopChoicesAlongItsGreedyOutputAreThatOutput() throws IOException {
        for (String name : List.of("paligemma-tiny", "paligemma2-tiny")) {
            try (PaliGemma pg = PaliGemma.open(Fixtures.path(name))) {
                RgbImage image = ImageLoader.load(Fixtures.path("images", "photo_like.jpg"));
                GenerationOptions options = GenerationOptions.defaults().withMaxNewTokens(12);
                GenerationResult greedy = pg.generate(List.of(image), "caption en", options, null);
                int[] choices = TeacherForcing.topChoices(pg, List.of(image), "caption en", greedy.ids(), options.slidingWindow());
                assertEquals(12, choices.length, name);
                assertArrayEquals(greedy.ids(), choices, name);
            }
        }
    }

    @Test
    void anEmptyContinuationHasNoChoices() throws IOException {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path("paligemma-tiny"))) {
            RgbImage image = ImageLoader.load(Fixtures.path("images", "tiny_gray.png"));
            assertEquals(0, TeacherForcing.topChoices(pg, List.of(image), "ocr", new int[0],
                    GenerationOptions.defaults().slidingWindow()).length);
        }
    }
}
