package org.paligemma4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.testing.Fixtures;

/** Stop strings on decoded text: across token boundaries, never streamed past, released when they do not complete. */
class StopStringsTest {

    @Test
    void aStopStringSpanningTwoPiecesEndsTheTextBeforeIt() {
        StopStrings s = new StopStrings(List.of("END"));
        StringBuilder shown = new StringBuilder();
        shown.append(s.accept("the E"));
        assertEquals("the ", shown.toString(), "'E' may begin the stop string: held back");
        shown.append(s.accept("NDing"));
        assertTrue(s.stopped());
        assertEquals("the ", shown.toString());
        assertEquals("the ", s.text());
        assertEquals("", s.flush());
    }

    @Test
    void heldBackTextIsReleasedWhenItTurnsOutNotToBeAStop() {
        StopStrings s = new StopStrings(List.of("cat!"));
        assertEquals("a ", s.accept("a ca"));
        assertEquals("", s.accept("t"));
        assertEquals("cat? no", s.accept("? no"));
        assertFalse(s.stopped());
        assertEquals("", s.flush());
        assertEquals("a cat? no", s.text());
    }

    @Test
    void aStopStringThatIsAPrefixOfTheOutputStopsAtItsFirstOccurrence() {
        StopStrings s = new StopStrings(List.of("ab"));
        assertEquals("x", s.accept("xabab"));
        assertTrue(s.stopped());
        assertEquals("x", s.text());
    }

    @Test
    void theEarliestOfSeveralStopStringsWins() {
        StopStrings s = new StopStrings(List.of("zz", "b"));
        assertEquals("a", s.accept("abzz"));
        assertEquals("a", s.text());
    }

    @Test
    void withoutAMatchEverythingIsReleasedByTheEnd() {
        StopStrings s = new StopStrings(List.of("nevermore"));
        String shown = s.accept("it is neve") + s.accept("r-ending? n") + s.flush();
        assertEquals("it is never-ending? n", shown);
        assertFalse(s.stopped());
    }

    /** On the model: a stop string made of the end of one token and the start of the next ends generation there. */
    @Test
    void generationEndsAtAStopStringAcrossATokenBoundary() throws IOException {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path("paligemma-tiny"))) {
            RgbImage image = ImageLoader.load(Fixtures.path("images", "shapes_text.png"));
            GenerationOptions options = GenerationOptions.defaults().withMaxNewTokens(20);
            GenerationResult free = pg.generate(List.of(image), "caption en", options, null);
            // Find two consecutive tokens with visible text, and take the last character of one and the first of the next.
            String[] pieces = new String[free.ids().length];
            for (int i = 0; i < pieces.length; i++) pieces[i] = pg.tokenizer().decode(java.util.Arrays.copyOf(free.ids(), i + 1));
            int boundary = -1;
            for (int i = 1; i < pieces.length - 1 && boundary < 0; i++) {
                if (pieces[i].length() > pieces[i - 1].length() && pieces[i + 1].length() > pieces[i].length()) boundary = i;
            }
            assertTrue(boundary > 0, "the fixture output has two consecutive visible tokens");
            String before = pieces[boundary];
            String stop = before.substring(before.length() - 1) + pieces[boundary + 1].charAt(before.length());
            int expectedEnd = free.text().indexOf(stop);
            List<String> streamed = new ArrayList<>();
            GenerationResult stopped = pg.generate(List.of(image), "caption en", options.withStopStrings(List.of(stop)),
                    (id, text) -> streamed.add(text));
            assertEquals(FinishReason.STOP, stopped.finishReason());
            assertEquals(free.text().substring(0, expectedEnd), stopped.text());
            assertEquals(stopped.text(), String.join("", streamed), "the stream shows exactly the final text");
            assertTrue(stopped.ids().length <= boundary + 2);

            GenerationResult never = pg.generate(List.of(image), "caption en", options.withStopStrings(List.of("\u0000never")), null);
            assertEquals(free.text(), never.text());
            assertEquals(FinishReason.LENGTH, never.finishReason());
        }
    }
}
