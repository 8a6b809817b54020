package org.paligemma4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.paligemma4j.testing.Fixtures;

class TokenizerStreamingDecoderTest {
    private static Tokenizer tok() throws IOException {
        return TokenizerGoldenTest.tokenizer(Fixtures.path("tokenizer", "paligemma_fixture_bpe.model"));
    }

    private static int b(int value) {
        return 217 + value; // <0xXX> ids in the Gemma layout
    }

    @Test
    void bytesOfOneCharacterAreHeldUntilItIsComplete() throws IOException {
        StreamingDecoder d = tok().newStreamingDecoder();
        assertEquals("", d.accept(b(0xF0)));
        assertEquals("", d.accept(b(0x9F)));
        assertEquals("", d.accept(b(0x98)));
        assertEquals("😀", d.accept(b(0x80)));
        assertEquals("", d.flush());
    }

    @Test
    void anIncompleteCharacterBecomesOneReplacementPerByteWhenTheRunEnds() throws IOException {
        StreamingDecoder d = tok().newStreamingDecoder();
        assertEquals("", d.accept(b(0xF0)));
        assertEquals("", d.accept(b(0x9F)));
        assertEquals("\uFFFD\uFFFD", d.accept(2)); // <bos> ends the byte run and is itself invisible
        assertEquals("", d.accept(b(0xE2)));
        assertEquals("\uFFFD", d.flush());
    }

    @Test
    void aByteThatCannotContinueIsReplacedAtOnce() throws IOException {
        StreamingDecoder d = tok().newStreamingDecoder();
        assertEquals("", d.accept(b(0xE2)));
        assertEquals("\uFFFDA", d.accept(b(0x41)));
        assertEquals("\uFFFD", d.accept(b(0xFF)));
    }

    @Test
    void unknownPieceReadsAsDoubleQuestionMarkAndSpacesComeBack() throws IOException {
        Tokenizer tok = tok();
        StreamingDecoder d = tok.newStreamingDecoder();
        assertEquals(" ⁇ ", d.accept(3));
        assertEquals(" ", d.accept(tok.idOf("\u2581")));
    }

    @Test
    void negativeIdsAreRejected() throws IOException {
        Tokenizer tok = tok();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {5, -1}));
        assertEquals("negative token id -1", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.pieceOf(tok.vocabSize()));
    }
}
