package org.paligemma4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CIDEr-D (pycocoevalcap's cider_scorer.py) on cases worked out by hand; the three-example corpus was computed with
 * an independent script from the formula, and all three corpora give the same values (to 1e-15) when run through
 * pycocoevalcap's own scorer.
 */
class CiderDTest {

    @Test
    void aPerfectTwoWordCaptionScoresFiveBecauseItHasNoThreeOrFourGrams() {
        // N = 2, log N = ln 2. "a" is in both examples (idf 0), "dog"/"cat" and the bigrams in one (idf ln 2): the
        // unigram and bigram cosines are 1, the 3- and 4-gram ones 0, so 10 · (1 + 1 + 0 + 0) / 4 = 5.
        CiderD.Result r = CiderD.scoreTokenized(List.of("a dog", "a cat"), List.of(List.of("a dog"), List.of("a cat")));
        assertEquals(5.0, r.score(), 1e-12);
        assertArrayEquals(new double[] {5.0, 5.0}, r.perExample(), 1e-12);
    }

    @Test
    void candidateCountsAreClippedAndLengthIsPenalized() {
        // "dog dog dog" vs "dog": unigram weights 3 ln2 and ln2, clipped: min(3 ln2, ln2) · ln2 / (3 ln2 · ln2) = 1/3.
        // Bigram/trigram: the reference has none (norm 0) → 0. Lengths (bigram counts) 2 and 0: exp(-4 / 72).
        // 10 · (1/3) · e^(-1/18) / 4; "cat" vs "cat": 10 · 1 / 4 = 2.5.
        double first = 10.0 / 12 * Math.exp(-1.0 / 18);
        CiderD.Result r = CiderD.scoreTokenized(List.of("dog dog dog", "cat"), List.of(List.of("dog"), List.of("cat")));
        assertArrayEquals(new double[] {first, 2.5}, r.perExample(), 1e-12);
        assertEquals((first + 2.5) / 2, r.score(), 1e-12);
    }

    @Test
    void severalReferencesAreAveraged() {
        CiderD.Result r = CiderD.scoreTokenized(
                List.of("a man riding a horse on the beach", "two dogs playing in the snow", "a plate of food"),
                List.of(List.of("a man rides a horse along the beach", "a person riding a horse on a beach"),
                        List.of("two dogs play in snow", "dogs running through the snow"),
                        List.of("a plate with food on it", "food on a white plate", "a dish of food")));
        assertArrayEquals(new double[] {3.626471613953208, 2.0956953293340126, 2.056992763031266}, r.perExample(), 1e-12);
        assertEquals(2.5930532354394953, r.score(), 1e-12);
    }

    @Test
    void captionsAreTokenizedLikeTheCocoEvaluation() {
        CiderD.Result raw = CiderD.score(List.of("A dog.", "A CAT!"), List.of(List.of("a dog"), List.of("a cat")));
        assertEquals(5.0, raw.score(), 1e-12);
    }

    @Test
    void anEmptyCandidateScoresZero() {
        CiderD.Result r = CiderD.score(List.of("", "a cat"), List.of(List.of("a dog"), List.of("a cat")));
        assertEquals(0.0, r.perExample()[0], 0);
    }
}
