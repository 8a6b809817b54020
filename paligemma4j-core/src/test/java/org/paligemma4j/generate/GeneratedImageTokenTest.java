package org.paligemma4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.model.KvCache;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.model.SlidingWindowSemantics;
import org.paligemma4j.testing.Fixtures;

/**
 * The random tiny model writes {@code <image>} while detecting "person" on photo_like.jpg. As in the reference's
 * cached generation, a generated {@code <image>} is an ordinary word (only the prompt's image tokens take image
 * features), so generation goes on through it.
 */
class GeneratedImageTokenTest {

    @Test
    void generationContinuesThroughAGeneratedImageTokenEmbeddedAsAWord() throws IOException {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path("paligemma-tiny"))) {
            PaliGemmaModel m = pg.model();
            int imageToken = m.config().imageTokenIndex();
            int[] prompt = pg.prompt("detect person", null).ids();
            var image = m.encodeImage(pg.preprocessor().pixelValues(ImageLoader.load(Fixtures.path("images", "photo_like.jpg"))));
            var options = GenerationOptions.defaults().withMaxNewTokens(64);
            var result = new Generator(m, pg.stopIds()).generate(new Generator.Request(prompt, image, options, true, null), null);
            int at = Arrays.stream(result.ids()).boxed().toList().indexOf(imageToken);
            assertTrue(at >= 0 && at + 1 < result.ids().length, "expected a generated <image> before the end: "
                    + Arrays.toString(result.ids()));

            // Without the cache: the prompt, then the generated ids up to and including <image> as words.
            int[] generated = Arrays.copyOf(result.ids(), at + 1);
            float[] promptEmbeddings = m.embedPrompt(prompt, image);
            float[] words = m.embedTokens(generated);
            float[] x = Arrays.copyOf(promptEmbeddings, promptEmbeddings.length + words.length);
            System.arraycopy(words, 0, x, promptEmbeddings.length, words.length);
            int tokens = prompt.length + generated.length;
            KvCache cache = m.newCache(tokens);
            m.decode(x, tokens, cache, prompt.length, SlidingWindowSemantics.TRANSFORMERS, null);
            float[] want = m.logits(x, tokens - 1, 1);
            float[] got = result.stepLogits().get(at + 1);
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 2e-4, "logit " + i + " after <image>");
        }
    }
}
