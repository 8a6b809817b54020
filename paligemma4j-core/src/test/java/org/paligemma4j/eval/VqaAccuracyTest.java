package org.paligemma4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * VQAv2 accuracy against values worked out by hand from the official vqaEval.py (GT-Vision-Lab/VQA, latest
 * revision): min(1, #other humans that gave the answer / 3), averaged over the leave-one-out subsets.
 */
class VqaAccuracyTest {

    private static List<String> answers(String a, int countA, String b, int countB) {
        List<String> out = new ArrayList<>(Collections.nCopies(countA, a));
        out.addAll(Collections.nCopies(countB, b));
        return out;
    }

    @Test
    void threeOfTenHumansGiveNinetyPercentAndFourGiveFull() {
        // 3 humans said "yes": leaving out one of them leaves 2 (2/3), leaving out any other leaves 3 (1): (3·2/3 + 7)/10.
        assertEquals(0.9, VqaAccuracy.score("yes", answers("yes", 3, "no", 7)), 1e-12);
        assertEquals(1.0, VqaAccuracy.score("yes", answers("yes", 4, "no", 6)), 1e-12);
        // 2 humans: (2·1/3 + 8·2/3)/10 = 0.6; 1 human: (1·0 + 9·1/3)/10 = 0.3; none: 0.
        assertEquals(0.6, VqaAccuracy.score("yes", answers("yes", 2, "no", 8)), 1e-12);
        assertEquals(0.3, VqaAccuracy.score("yes", answers("yes", 1, "no", 9)), 1e-12);
        assertEquals(0.0, VqaAccuracy.score("maybe", answers("yes", 5, "no", 5)), 1e-12);
    }

    @Test
    void answersAreNormalizedWhenHumansDisagree() {
        List<String> humans = answers("2", 5, "3", 5);
        assertEquals(1.0, VqaAccuracy.score("Two.", humans), 1e-12, "number word, case, final period");
        assertEquals(1.0, VqaAccuracy.score("  two\n", humans), 1e-12);
        assertEquals(1.0, VqaAccuracy.score("the dog", answers("dog", 5, "cat", 5)), 1e-12, "article dropped");
        assertEquals(1.0, VqaAccuracy.score("dont know", answers("don't know", 5, "no", 5)), 1e-12, "contraction restored");
    }

    @Test
    void nothingIsNormalizedWhenAllHumansAgree() {
        // The official script only normalizes when the human answers differ: then "Yes" does not equal "yes".
        assertEquals(1.0, VqaAccuracy.score("yes", Collections.nCopies(10, "yes")), 1e-12);
        assertEquals(0.0, VqaAccuracy.score("Yes", Collections.nCopies(10, "yes")), 1e-12);
    }

    @Test
    void aSingleReferenceScoresNormalizedExactMatch() {
        assertEquals(1.0, VqaAccuracy.score("The cat.", List.of("cat")), 1e-12);
        assertEquals(0.0, VqaAccuracy.score("dog", List.of("cat")), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> VqaAccuracy.score("cat", List.of()));
    }

    @Test
    void punctuationIsDeletedNextToSpacesAndOtherwiseBecomesASpace() {
        assertEquals("hello world", VqaAccuracy.punctuation("hello, world"));
        assertEquals("t shirt", VqaAccuracy.punctuation("t-shirt"));
        assertEquals("1000 people", VqaAccuracy.punctuation("1,000 people"), "a comma between digits: every mark deleted");
        assertEquals("dog's", VqaAccuracy.punctuation("dog's"), "the apostrophe is not in the list");
        assertEquals("3.5 m", VqaAccuracy.punctuation("3.5 m."), "a period before a digit stays");
        // The reference passes re.UNICODE (32) as sub()'s count: only 32 periods go.
        assertEquals("........", VqaAccuracy.punctuation(".".repeat(40)));
    }

    @Test
    void digitsArticlesAndContractions() {
        assertEquals("0", VqaAccuracy.normalize("None"));
        assertEquals("10 apples", VqaAccuracy.normalize("Ten apples"));
        assertEquals("cat on mat", VqaAccuracy.normalize("A cat on the mat"));
        assertEquals("isn't", VqaAccuracy.normalize("isnt"));
        assertEquals("somebodyd", VqaAccuracy.normalize("somebody'd"), "the table's own quirk");
    }

    /**
     * Outputs of the official script's {@code processDigitArticle(processPunctuation(s))}, run on these inputs (with
     * Python 3) to cross-check this implementation; the left column is the input, the right the official output.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '\0', textBlock = """
            Yes          | yes
            one.         | 1
            The End.     | end
            red, white   | red white
            1,000        | 1000
            1,2 and x-y  | 12 and xy
            a-b          | b
            a,b          | b
            t-shirt      | t shirt
            (left)       | left
            u.s.         | us
            a.b.c        | abc
            end. 3.5.    | end 3.5
            Mr. Smith    | mr smith
            x / y        | x y
            @home        | home
            +5           | 5
            whats        | what's
            yall         | y'all
            """)
    void normalizationAsTheOfficialScriptPrintsIt(String input, String official) {
        assertEquals(official.strip(), VqaAccuracy.normalize(input.strip()));
    }
}
