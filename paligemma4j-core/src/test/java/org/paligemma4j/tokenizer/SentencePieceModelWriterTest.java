package org.paligemma4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.scenes.Scene;
import org.paligemma4j.scenes.SceneGenerator;
import org.paligemma4j.scenes.SceneTasks;

/** A written tokenizer.model reads back with our strict reader, in PaliGemma's layout, and encodes scene texts compactly. */
class SentencePieceModelWriterTest {
    private static final String CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n.,;:?!'\"-()/";
    private static final SentencePieceModelWriter.Model MODEL =
            SentencePieceModelWriter.write(SceneTasks.vocabulary(), CHARACTERS);

    @TempDir
    Path tmp;

    private static Tokenizer tokenizer() throws TokenizerFormatException {
        return Tokenizer.fromSentencePieceModel(MODEL.bytes(), "scenes.model");
    }

    @Test
    void theReaderSeesPaliGemmasLayoutAndGemmasSettings() throws TokenizerFormatException {
        SentencePieceModelReader.Model m = SentencePieceModelReader.read(MODEL.bytes(), "scenes.model");
        assertEquals(MODEL.pieces().size(), m.pieces().length);
        for (int id = 0; id < m.pieces().length; id++) {
            assertEquals(MODEL.pieces().get(id), new String(m.pieces()[id], StandardCharsets.UTF_8));
        }
        assertEquals(List.of(PieceType.CONTROL, PieceType.CONTROL, PieceType.CONTROL, PieceType.UNKNOWN),
                List.of(m.types()).subList(0, 4));
        assertEquals("<0x00>", MODEL.pieces().get(4));
        assertEquals(PieceType.BYTE, m.types()[4 + 255]);
        assertTrue(m.byteFallback());
        assertTrue(m.escapeWhitespaces());
        assertEquals(MODEL.firstLocation() + 1024, MODEL.firstSegmentation());
        assertEquals(MODEL.firstSegmentation() + 128, MODEL.pieces().size(), "<seg127> is the last piece");
        assertEquals(PieceType.USER_DEFINED, m.types()[MODEL.firstLocation()]);

        Tokenizer tok = tokenizer();
        assertEquals(0, tok.padId());
        assertEquals(1, tok.eosId());
        assertEquals(2, tok.bosId());
        assertEquals(3, tok.unkId());
        assertEquals(MODEL.firstLocation() + 123, tok.locId(123));
        assertEquals(MODEL.firstSegmentation() + 45, tok.segId(45));
    }

    @Test
    void everySceneWordIsOnePieceWithOrWithoutALeadingSpace() throws TokenizerFormatException {
        Tokenizer tok = tokenizer();
        for (String w : SceneTasks.vocabulary()) {
            assertEquals(List.of(w), tok.encodeToPieces(w));
            assertEquals(List.of("\u2581" + w), tok.encodeToPieces(" " + w));
        }
        assertEquals(List.of("detect", "\u2581red", "\u2581circle", "\u2581;", "\u2581star", "\n"),
                tok.encodeToPieces("detect red circle ; star\n"));
        assertArrayEquals(new int[] {tok.locId(12), tok.locId(1023), tok.locId(0), tok.locId(512), tok.idOf("\u2581red")},
                tok.encode("<loc0012><loc1023><loc0000><loc0512> red"));
    }

    @Test
    void sceneTextsAndAnyOtherTextRoundTrip() throws Exception {
        Tokenizer tok = tokenizer();
        SceneGenerator g = new SceneGenerator(64);
        for (int i = 0; i < 100; i++) {
            Scene scene = g.draw(3, i).scene();
            for (SceneTasks.Example e : SceneTasks.examples(scene, new SplittableRandom(i))) {
                for (String text : List.of(e.prefix() + "\n", e.suffix())) {
                    int[] ids = tok.encode(text);
                    assertEquals(text, tok.decode(ids));
                    for (int id : ids) assertTrue(tok.pieceType(id) != PieceType.BYTE && id != tok.unkId(), text);
                }
            }
        }
        for (String text : List.of("café ☕ naïve", "\t tabs\tand  double  spaces", "<loc12> <seg007> UPPER lower 42")) {
            assertEquals(text, tok.decode(tok.encode(text)));
        }
    }

    @Test
    void theFileLoadsFromAModelDirectoryWithImageAsTheAddedTokenAfterTheLastPiece() throws Exception {
        Files.write(tmp.resolve("tokenizer.model"), MODEL.bytes());
        // As in PaliGemma, <image> is not in the .model: the model folder's added_tokens.json adds it.
        Files.writeString(tmp.resolve("added_tokens.json"), "{\"<image>\": " + MODEL.imageTokenId() + "}");
        Tokenizer tok = Tokenizer.load(tmp);
        assertEquals(MODEL.imageTokenId(), tok.imageTokenId());
        assertEquals("<image>", tok.pieceOf(tok.imageTokenId()));
        assertEquals("a blue star", tok.decode(tok.encode("a blue star")));
        assertEquals(3, tok.encode("a blue star").length);
    }

    @Test
    void wordsNeedTheirCharacters() {
        var e = assertThrows(IllegalArgumentException.class, () -> SentencePieceModelWriter.write(List.of("café"), "abcdef"));
        assertTrue(e.getMessage().contains("café"), e.getMessage());
    }
}
