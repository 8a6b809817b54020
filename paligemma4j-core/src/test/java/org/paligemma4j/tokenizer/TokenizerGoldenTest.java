package org.paligemma4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.paligemma4j.testing.Fixtures;

/**
 * Parity with SentencePiece 0.1.97 on every golden in fixtures/tokenizer: the two fixture models laid out like
 * Gemma/PaliGemma and the two models carrying the real 257,152-piece PaliGemma vocabularies.
 */
class TokenizerGoldenTest {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    static Tokenizer tokenizer(Path file) throws IOException {
        Tokenizer t = LOADED.get(file.toString());
        if (t == null) {
            t = Tokenizer.load(file);
            LOADED.put(file.toString(), t);
        }
        return t;
    }

    static JsonNode golden(String model) throws IOException {
        return JSON.readTree(Fixtures.path("tokenizer", model.replace(".model", ".golden.json").replace(".reconstructed", "")).toFile());
    }

    static int[] ints(JsonNode array) {
        return org.paligemma4j.testing.JsonArrays.ints(array);
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma_fixture_bpe.model", "gemma_fixture_bpe.model",
            "real/paligemma_tokenizer.reconstructed.model", "real/paligemma2_tokenizer.reconstructed.model"})
    void encodeGivesGoldenIdsPiecesAndDecodedText(String model) throws IOException {
        Tokenizer tok = tokenizer(Fixtures.path("tokenizer", model));
        JsonNode cases = golden(model).get("encode");
        List<String> failures = new ArrayList<>();
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            int[] ids = tok.encode(text);
            if (!Arrays.equals(ints(c.get("ids")), ids)) {
                failures.add("ids of " + quote(text) + ": expected " + c.get("ids") + " got " + Arrays.toString(ids));
                continue;
            }
            if (!strings(c.get("pieces")).equals(tok.encodeToPieces(text))) {
                failures.add("pieces of " + quote(text) + ": expected " + c.get("pieces") + " got " + tok.encodeToPieces(text));
            }
            if (!c.get("decoded").asText().equals(tok.decode(ids))) {
                failures.add("decode of " + quote(text) + ": expected " + quote(c.get("decoded").asText()) + " got " + quote(tok.decode(ids)));
            }
        }
        assertEquals(300, cases.size());
        assertTrue(failures.isEmpty(), failures.size() + " of " + cases.size() + " cases differ:\n"
                + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma_fixture_bpe.model", "gemma_fixture_bpe.model",
            "real/paligemma_tokenizer.reconstructed.model", "real/paligemma2_tokenizer.reconstructed.model"})
    void decodeGivesGoldenPiecesAndText(String model) throws IOException {
        Tokenizer tok = tokenizer(Fixtures.path("tokenizer", model));
        JsonNode cases = golden(model).get("decode");
        List<String> failures = new ArrayList<>();
        for (JsonNode c : cases) {
            int[] ids = ints(c.get("ids"));
            List<String> pieces = Arrays.stream(ids).mapToObj(tok::pieceOf).toList();
            if (!strings(c.get("pieces")).equals(pieces)) failures.add("pieces of " + c.get("ids") + ": got " + pieces);
            String text = tok.decode(ids);
            if (!c.get("text").asText().equals(text)) {
                failures.add("decode " + c.get("ids") + ": expected " + quote(c.get("text").asText()) + " got " + quote(text));
            }
        }
        assertTrue(cases.size() >= 100, "golden has " + cases.size() + " decode cases");
        assertTrue(failures.isEmpty(), failures.size() + " decode cases differ:\n" + String.join("\n", failures));
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma_fixture_bpe.model", "gemma_fixture_bpe.model",
            "real/paligemma_tokenizer.reconstructed.model", "real/paligemma2_tokenizer.reconstructed.model"})
    void vocabularySizeSpecialIdsAndPieceTypesMatchGolden(String model) throws IOException {
        Tokenizer tok = tokenizer(Fixtures.path("tokenizer", model));
        JsonNode g = golden(model);
        assertEquals(g.get("vocab_size").asInt(), tok.vocabSize());
        JsonNode special = g.get("special_ids");
        assertEquals(special.get("pad").asInt(), tok.padId());
        assertEquals(special.get("eos").asInt(), tok.eosId());
        assertEquals(special.get("bos").asInt(), tok.bosId());
        assertEquals(special.get("unk").asInt(), tok.unkId());
        Map<String, Integer> counts = new TreeMap<>();
        for (int id = 0; id < tok.vocabSize(); id++) counts.merge(tok.pieceType(id).name(), 1, Integer::sum);
        Map<String, Integer> expected = new TreeMap<>();
        g.get("piece_type_counts").properties().forEach(e -> expected.put(e.getKey(), e.getValue().asInt()));
        assertEquals(expected, counts);
        assertEquals(-1, tok.imageTokenId(), "a bare .model has no <image>");
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp == 0x7F) b.append(String.format("\\u%04x", cp));
            else b.appendCodePoint(cp);
        });
        return b.append('"').toString();
    }
}
