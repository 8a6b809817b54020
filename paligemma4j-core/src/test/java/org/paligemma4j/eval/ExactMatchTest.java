package org.paligemma4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExactMatchTest {
    @Test
    void equalAfterStrippingSurroundingWhitespace() {
        assertEquals(1.0, ExactMatch.score(" a dog\n", List.of("a dog")));
        assertEquals(1.0, ExactMatch.score("cat", List.of("dog", "cat")), "any reference");
        assertEquals(0.0, ExactMatch.score("A dog", List.of("a dog")), "case counts");
        assertEquals(0.0, ExactMatch.score("a  dog", List.of("a dog")), "inner spacing counts");
        assertEquals(0.0, ExactMatch.score("a dog.", List.of("a dog")), "punctuation counts");
    }
}
