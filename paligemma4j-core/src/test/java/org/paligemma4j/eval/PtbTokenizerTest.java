package org.paligemma4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** PTB tokenization as the COCO caption evaluation uses it (lower case, punctuation tokens removed). */
class PtbTokenizerTest {
    @Test
    void lowerCasesAndRemovesPunctuation() {
        assertEquals(List.of("a", "man", "riding", "a", "horse"), PtbTokenizer.tokenize("A man riding a horse."));
        assertEquals(List.of("dogs", "cats", "and", "birds"), PtbTokenizer.tokenize("Dogs, cats; and birds!?"));
        assertEquals(List.of("quoted", "text"), PtbTokenizer.tokenize("\"Quoted\" (text)"));
        assertEquals(List.of("wait"), PtbTokenizer.tokenize("wait..."));
        assertEquals(List.of("a", "b"), PtbTokenizer.tokenize("a - b -- "));
    }

    @Test
    void splitsClitics() {
        assertEquals(List.of("the", "dog", "'s", "toy", "is", "n't", "it"), PtbTokenizer.tokenize("The dog's toy, isn't it?"));
        assertEquals(List.of("ca", "n't", "we", "'re", "i", "'m", "can", "not"), PtbTokenizer.tokenize("can't we're I'm cannot"));
        assertEquals(List.of("the", "dogs", "bowl"), PtbTokenizer.tokenize("the dogs' bowl"));
    }

    @Test
    void keepsNumbersHyphensAndAcronyms() {
        assertEquals(List.of("1,000", "people", "3.5", "t-shirt"), PtbTokenizer.tokenize("1,000 people 3.5 t-shirt"));
        assertEquals(List.of("a", "u.s.", "flag"), PtbTokenizer.tokenize("a U.S. flag."));
        assertEquals(List.of("50", "%", "$", "5"), PtbTokenizer.tokenize("50% $5"));
    }
}
