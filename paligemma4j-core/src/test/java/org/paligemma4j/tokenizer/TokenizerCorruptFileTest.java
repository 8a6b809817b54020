package org.paligemma4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.testing.Fixtures;

/** Damaged or foreign files fail with a TokenizerFormatException naming the problem, never with anything else. */
class TokenizerCorruptFileTest {
    private static final String SOURCE = "tokenizer.model";

    private static byte[] fixtureModel() throws IOException {
        return Files.readAllBytes(Fixtures.path("tokenizer", "paligemma_fixture_bpe.model"));
    }

    private static TokenizerFormatException loadFails(byte[] data) {
        return assertThrows(TokenizerFormatException.class, () -> Tokenizer.fromSentencePieceModel(data, SOURCE));
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable load, String how, String expected) {
        String message = assertThrows(TokenizerFormatException.class, load).getMessage();
        boolean ok = switch (how) {
            case "contains" -> message.contains(expected);
            case "startsWith" -> message.startsWith(expected);
            default -> message.endsWith(expected);
        };
        assertTrue(ok, "message '" + message + "' should " + how + " '" + expected + "'");
    }

    @Test
    void everyTruncationIsReportedWithFileNameAndOffset() throws IOException {
        byte[] model = fixtureModel();
        for (int length = 0; length < model.length; length += length < 512 ? 1 : 97) {
            TokenizerFormatException e = loadFails(Arrays.copyOf(model, length));
            assertTrue(e.getMessage().startsWith(SOURCE + ":"), e.getMessage());
        }
        assertEquals("tokenizer.model: byte 0 in ModelProto: pieces[0] declares 14 bytes but only 4 remain (file truncated or corrupt?)",
                loadFails(Arrays.copyOf(model, 6)).getMessage());
    }

    @Test
    void bitFlipsEitherLoadOrFailCleanly() throws IOException {
        byte[] model = fixtureModel();
        SplittableRandom random = new SplittableRandom(42);
        int failed = 0;
        for (int trial = 0; trial < 3000; trial++) {
            byte[] damaged = model.clone();
            for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                damaged[random.nextInt(damaged.length)] ^= (byte) (1 << random.nextInt(8));
            }
            try {
                Tokenizer tok = Tokenizer.fromSentencePieceModel(damaged, SOURCE);
                // a flip in a score or inside a piece's text still gives a usable model
                tok.decode(tok.encode("Hello world <loc0123> 東京 😀\t\t"));
            } catch (TokenizerFormatException e) {
                failed++;
                assertTrue(e.getMessage().startsWith(SOURCE + ":"), e.getMessage());
            } catch (RuntimeException e) {
                fail("bit flip gave " + e, e);
            }
        }
        assertTrue(failed > 100, "only " + failed + " damaged files were refused");
    }

    @Test
    void absurdLengthsFailWithoutAllocating() {
        // field 1 (pieces), declared length 2^32 - 1, then 4 bytes
        byte[] huge = {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F, 1, 2, 3, 4};
        assertEquals("tokenizer.model: byte 0 in ModelProto: pieces[0] declares 4294967295 bytes but only 4 remain (file truncated or corrupt?)",
                loadFails(huge).getMessage());
        // a 10-byte varint length with the top bit set reads as negative
        byte[] negative = {0x0A, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
                (byte) 0x80, (byte) 0x80, 0x01};
        assertMessage(() -> Tokenizer.fromSentencePieceModel(negative, SOURCE), "contains", "declares 9223372036854775808 bytes");
        byte[] endless = new byte[16];
        Arrays.fill(endless, (byte) 0xFF);
        assertMessage(() -> Tokenizer.fromSentencePieceModel(endless, SOURCE), "contains", "varint longer than 10 bytes");
    }

    @Test
    void groupsAndWrongWireTypesAreRefused() {
        assertMessage(() -> Tokenizer.fromSentencePieceModel(new byte[] {0x0B, 0x0C}, SOURCE), "contains", "field 1 has unsupported wire type 3");
        assertMessage(() -> Tokenizer.fromSentencePieceModel(new byte[] {0x08, 0x01}, SOURCE), "contains", "field 1 (pieces) has wire type 0, expected 2");
        assertMessage(() -> Tokenizer.fromSentencePieceModel(new byte[] {0x00}, SOURCE), "contains", "invalid field number 0");
    }

    @Test
    void unsupportedModelSettingsAreNamed() {
        assertMessage(() -> ModelProtoWriter.gemmaLike().modelType(1).load(), "contains", "model_type UNIGRAM is not supported");
        assertMessage(() -> ModelProtoWriter.gemmaLike().addDummyPrefix(true).load(), "contains", "add_dummy_prefix=true is not supported");
        assertMessage(() -> ModelProtoWriter.gemmaLike().piece("<pad>", 0, PieceType.NORMAL).load(), "contains", "piece '<pad>' is defined twice, ids 0 and 4");
        assertMessage(() -> ModelProtoWriter.gemmaLike().piece("<0x4>", 0, PieceType.BYTE).load(), "contains", "has type BYTE but is not of the form <0xXX>");
        assertMessage(() -> new ModelProtoWriter().piece("a", 0, PieceType.NORMAL).load(), "contains", "no piece of type UNKNOWN");
    }

    @Test
    void foreignAndMissingFilesAreReported(@TempDir Path dir) throws IOException {
        assertInstanceOf(NoSuchFileException.class, assertThrows(IOException.class, () -> Tokenizer.load(dir.resolve("missing.model"))));
        assertThrows(NoSuchFileException.class, () -> Tokenizer.load(dir));
        Path empty = Files.write(dir.resolve("empty.model"), new byte[0]);
        assertMessage(() -> Tokenizer.load(empty), "endsWith", "file is empty");
        Path png = Files.copy(Fixtures.path("images", "shapes_text.png"), dir.resolve("picture.model"));
        assertMessage(() -> Tokenizer.load(png), "startsWith", png.toString());
        Path config = Fixtures.path("paligemma-tiny", "config.json");
        assertMessage(() -> Tokenizer.load(config), "endsWith", "no \"model\" section");
        Path badJson = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"vocab\": {\"a\": 1,");
        assertMessage(() -> Tokenizer.load(badJson), "startsWith", badJson + ": invalid JSON at line 1");
        Path wrongVocab = Files.writeString(dir.resolve("other.json"), "{\"model\": {\"vocab\": [1]}}");
        assertMessage(() -> Tokenizer.load(wrongVocab), "contains", "other.json: model.vocab is not an object");
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write("{\"model\": {}}".getBytes());
        }
        byte[] truncatedGz = Arrays.copyOf(gz.toByteArray(), gz.size() - 6);
        Path badGz = Files.write(dir.resolve("t.json.gz"), truncatedGz);
        assertMessage(() -> Tokenizer.load(badGz), "contains", "corrupt gzip data");
    }
}
