package org.paligemma4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ANLS on the published example of the ST-VQA paper (Biten et al. 2019, the "Coca Cola" figure also shown on the
 * Robust Reading Competition's evaluation page): ground truths "Coca Cola" and "Coca Cola Company"; and the
 * details of the competitions' scoring script (threshold kept at exactly 0.5, denominator from the raw answers).
 */
class AnlsTest {
    private static final List<String> COCA_COLA = List.of("Coca Cola", "Coca Cola Company");

    @Test
    void theCocaColaExampleOfTheStVqaPaper() {
        assertEquals(1.0, Anls.score("Coca cola", COCA_COLA), 1e-12, "case does not count");
        assertEquals(8.0 / 9, Anls.score("CocaCola", COCA_COLA), 1e-12, "one edit in 9 characters");
        assertEquals(0.0, Anls.score("The Coca", COCA_COLA), 1e-12, "similarity 4/9 is under the threshold");
        assertEquals(0.0, Anls.score("Cola", COCA_COLA), 1e-12);
        assertEquals(0.0, Anls.score("Cat", COCA_COLA), 1e-12);
    }

    @Test
    void normalizedLevenshteinDistance() {
        assertEquals(5.0 / 9, Anls.normalizedLevenshtein("the coca", "coca cola"), 1e-12);
        assertEquals(3.0 / 7, Anls.normalizedLevenshtein("kitten", "sitting"), 1e-12, "the textbook 3 edits");
        assertEquals(0.0, Anls.normalizedLevenshtein("", ""), 0);
        assertEquals(1.0, Anls.normalizedLevenshtein("", "abc"), 0);
        assertEquals(0.5, Anls.normalizedLevenshtein("é1", "é2"), 0, "code points, not bytes");
    }

    @Test
    void aSimilarityOfExactlyTheThresholdIsKeptAsTheScoringScriptDoes() {
        assertEquals(0.5, Anls.score("ab", List.of("ac")), 0);
        assertEquals(0.0, Anls.score("abc", List.of("axy")), 0, "1/3 is below the threshold");
        assertEquals(2.0 / 3, Anls.score("abc", List.of("abd", "xyz")), 1e-12, "best ground truth counts");
    }

    @Test
    void spacesAreNormalizedButTheScriptDividesByTheLengthsAsGiven() {
        assertEquals(1.0, Anls.score("  coca   COLA\n", COCA_COLA), 1e-12);
        // norm: "cocacola" vs "coca cola" is 1 edit; the script's denominator is len("cocacola   ") = 11, not 9.
        assertEquals(1 - 1.0 / 11, Anls.score("CocaCola   ", List.of("Coca Cola")), 1e-12);
        assertEquals(1.0, Anls.score("", List.of("")), 0, "two empty answers agree");
    }
}
