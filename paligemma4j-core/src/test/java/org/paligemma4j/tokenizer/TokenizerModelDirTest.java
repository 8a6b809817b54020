package org.paligemma4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.paligemma4j.testing.Fixtures;

/** Each tiny checkpoint's tokenizer builds exactly the input ids that PaliGemmaProcessor built for its goldens. */
class TokenizerModelDirTest {
    static final String[] MODELS = Fixtures.MODELS;

    @ParameterizedTest
    @FieldSource("MODELS")
    void promptIdsMatchTheProcessorGoldens(String model) throws IOException {
        Path dir = Fixtures.path(model);
        Tokenizer tok = Tokenizer.load(dir);
        JsonNode manifest = TokenizerGoldenTest.JSON.readTree(Fixtures.path("golden", model, "manifest.json").toFile());
        assertEquals(manifest.get("image_token_id").asInt(), tok.imageTokenId());
        assertEquals(manifest.get("bos_id").asInt(), tok.bosId());
        assertEquals(manifest.get("eos_id").asInt(), tok.eosId());
        assertEquals(manifest.get("pad_id").asInt(), tok.padId());
        assertEquals("<image>", tok.pieceOf(tok.imageTokenId()));
        assertEquals(PieceType.CONTROL, tok.pieceType(tok.imageTokenId()));
        assertEquals(tok.imageTokenId() + 1, tok.vocabSize(), "<image> follows the SentencePiece vocabulary");
        int images = manifest.get("num_image_tokens").asInt();
        for (JsonNode c : manifest.get("cases")) {
            // '<image>' * N + '<bos>' + prompt + '\n' [+ suffix + '<eos>']
            IntStream.Builder ids = IntStream.builder();
            for (int i = 0; i < images; i++) ids.add(tok.imageTokenId());
            ids.add(tok.bosId());
            Arrays.stream(tok.encode(c.get("prompt").asText() + "\n")).forEach(ids::add);
            if (!c.get("suffix").isNull()) {
                Arrays.stream(tok.encode(c.get("suffix").asText())).forEach(ids::add);
                ids.add(tok.eosId());
            }
            assertArrayEquals(TokenizerGoldenTest.ints(c.get("input_ids")), ids.build().toArray(), c.get("name").asText());
        }
    }

    @ParameterizedTest
    @FieldSource("MODELS")
    void modelFileInsideTheDirectoryLoadsWithTheCheckpointsAddedTokens(String model) throws IOException {
        Tokenizer fromDir = Tokenizer.load(Fixtures.path(model));
        Tokenizer fromFile = Tokenizer.load(Fixtures.path(model, "tokenizer.model"));
        assertEquals(fromDir.vocabSize(), fromFile.vocabSize());
        assertEquals(fromDir.imageTokenId(), fromFile.imageTokenId());
        assertArrayEquals(fromDir.encode("detect cat ; dog\n"), fromFile.encode("detect cat ; dog\n"));
    }

    @ParameterizedTest
    @FieldSource("MODELS")
    void locationAndSegmentationTokensMapBothWays(String model) throws IOException {
        Tokenizer tok = Tokenizer.load(Fixtures.path(model));
        assertEquals(1024, tok.locId(0));
        assertEquals(2047, tok.locId(1023));
        assertEquals(2048, tok.segId(0));
        assertEquals(2175, tok.segId(127));
        for (int i = 0; i < 1024; i++) assertEquals(i, tok.locValue(tok.locId(i)));
        for (int i = 0; i < 128; i++) assertEquals(i, tok.segValue(tok.segId(i)));
    }

    /** Random-weight checkpoints generate ids of the embedding's padding rows, past the tokenizer: they decode to nothing. */
    @ParameterizedTest
    @FieldSource("MODELS")
    void generatedIdsDecodeIncludingPaddingRows(String model) throws IOException {
        Tokenizer tok = Tokenizer.load(Fixtures.path(model));
        JsonNode manifest = TokenizerGoldenTest.JSON.readTree(Fixtures.path("golden", model, "manifest.json").toFile());
        for (JsonNode c : manifest.get("cases")) {
            int[] generated = TokenizerGoldenTest.ints(c.get("generation").get("generated_ids"));
            StringBuilder expected = new StringBuilder();
            for (int id : generated) expected.append(tok.decode(new int[] {id}));
            // no byte pieces in these sequences, so piecewise decoding equals whole decoding
            if (Arrays.stream(generated).noneMatch(id -> id < tok.vocabSize() && tok.pieceType(id) == PieceType.BYTE)) {
                assertEquals(expected.toString(), tok.decode(generated));
            }
            assertEquals("", tok.decode(new int[] {tok.vocabSize(), tok.vocabSize() + 63}));
        }
    }
}
