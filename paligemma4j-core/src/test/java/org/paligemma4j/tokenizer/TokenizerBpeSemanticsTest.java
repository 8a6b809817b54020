package org.paligemma4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** SentencePiece BPE rules pinned on tiny hand-made models, where each rule decides the outcome alone. */
class TokenizerBpeSemanticsTest {

    @Test
    void equalScoresMergeTheLeftmostPairFirst() throws Exception {
        Tokenizer tok = ModelProtoWriter.gemmaLike().bytePieces()
                .piece("a", 0, PieceType.NORMAL).piece("aa", -1, PieceType.NORMAL).load();
        assertEquals(List.of("aa", "a"), tok.encodeToPieces("aaa"));
        assertEquals(List.of("aa", "aa", "a"), tok.encodeToPieces("aaaaa"));
    }

    @Test
    void higherScoreWinsOverPosition() throws Exception {
        Tokenizer tok = ModelProtoWriter.gemmaLike().bytePieces().piece("a", 0, PieceType.NORMAL)
                .piece("b", 0, PieceType.NORMAL).piece("c", 0, PieceType.NORMAL)
                .piece("ab", -2, PieceType.NORMAL).piece("bc", -1, PieceType.NORMAL).load();
        assertEquals(List.of("a", "bc"), tok.encodeToPieces("abc"));
    }

    @Test
    void scoresDecideNotIds() throws Exception {
        // "ab" has the higher id but the better score
        Tokenizer tok = ModelProtoWriter.gemmaLike().bytePieces().piece("a", 0, PieceType.NORMAL)
                .piece("b", 0, PieceType.NORMAL).piece("c", 0, PieceType.NORMAL)
                .piece("bc", -5, PieceType.NORMAL).piece("ab", -1, PieceType.NORMAL).load();
        assertEquals(List.of("ab", "c"), tok.encodeToPieces("abc"));
    }

    @Test
    void unusedPieceIsSplitBackIntoThePairThatFormedIt() throws Exception {
        Tokenizer tok = ModelProtoWriter.gemmaLike().bytePieces().piece("a", 0, PieceType.NORMAL)
                .piece("b", 0, PieceType.NORMAL).piece("c", 0, PieceType.NORMAL)
                .piece("ab", -1, PieceType.UNUSED).piece("abc", -2, PieceType.NORMAL).load();
        assertEquals(List.of("a", "b"), tok.encodeToPieces("ab"));
        assertEquals(List.of("abc"), tok.encodeToPieces("abc"), "an unused piece may still be an intermediate step");
    }

    @Test
    void userDefinedPiecesMatchLongestFirstAndAreNeverMerged() throws Exception {
        Tokenizer tok = ModelProtoWriter.gemmaLike().bytePieces().piece("x", 0, PieceType.NORMAL)
                .piece("<ab>", 0, PieceType.USER_DEFINED).piece("<abc>", 0, PieceType.USER_DEFINED)
                .piece("x<ab>", -1, PieceType.NORMAL).load();
        assertEquals(List.of("x", "<abc>"), tok.encodeToPieces("x<abc>"));
        assertEquals(List.of("x", "<ab>"), tok.encodeToPieces("x<ab>"), "a frozen symbol does not merge into x<ab>");
    }

    @Test
    void controlAndUnknownPiecesAreNeverMatchedFromText() throws Exception {
        Tokenizer tok = ModelProtoWriter.gemmaLike().bytePieces().piece("<", 0, PieceType.NORMAL)
                .piece("b", 0, PieceType.NORMAL).piece("o", 0, PieceType.NORMAL).piece("s", 0, PieceType.NORMAL)
                .piece(">", 0, PieceType.NORMAL).load();
        assertEquals(List.of("<", "b", "o", "s", ">"), tok.encodeToPieces("<bos>"));
        assertEquals(List.of("<", "<0x75>", "<0x6E>", "<0x6B>", ">"), tok.encodeToPieces("<unk>"));
    }

    @Test
    void withoutByteFallbackAnUnknownCharacterIsUnk() throws Exception {
        Tokenizer tok = new ModelProtoWriter().piece("<unk>", 0, PieceType.UNKNOWN).piece("a", 0, PieceType.NORMAL)
                .byteFallback(false).load();
        assertEquals(List.of("a", "<unk>", "a"), tok.encodeToPieces("a😀a"));
        assertEquals("a ⁇ a", tok.decode(tok.encode("a😀a")));
    }

    @Test
    void onlyTheSpaceCharacterBecomesTheWordBoundarySymbol() throws Exception {
        Tokenizer tok = ModelProtoWriter.gemmaLike().bytePieces().piece("\u2581", 0, PieceType.NORMAL)
                .piece("a", 0, PieceType.NORMAL).piece("\u2581a", -1, PieceType.NORMAL).load();
        assertEquals(List.of("\u2581a", "\u2581", "<0x09>", "<0xC2>", "<0xA0>", "a"), tok.encodeToPieces(" a \t\u00A0a"));
        assertEquals(List.of("\u2581a"), tok.encodeToPieces("\u2581a"), "a literal ▁ is the same as a space");
    }

    @Test
    void loneSurrogatesAreEncodedAsJavasUtf8EncoderDoes() throws Exception {
        Tokenizer tok = ModelProtoWriter.gemmaLike().bytePieces().piece("a", 0, PieceType.NORMAL).load();
        assertEquals(List.of("a", "<0x3F>", "<0x3F>", "a"), tok.encodeToPieces("a\uDC00\uD800a"), "low then high surrogate: two lone ones");
    }
}
