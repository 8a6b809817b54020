package org.paligemma4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.paligemma4j.testing.Fixtures;

/** A Hugging Face tokenizer.json (Gemma 2's real vocabulary) tokenizes as transformers' BPE model does. */
class TokenizerHfJsonTest {

    static Tokenizer gemma2Json() throws IOException {
        return TokenizerGoldenTest.tokenizer(Fixtures.artifacts().resolve("gemma-tokenizer/gemma2_tokenizer.json.gz"));
    }

    @Test
    void gemma2TokenizerJsonReproducesHfGoldenIds() throws IOException {
        Tokenizer tok = gemma2Json();
        JsonNode cases = TokenizerGoldenTest.JSON.readTree(Fixtures.path("tokenizer", "real", "gemma2_hf_tokenizer_json.golden.json").toFile())
                .get("encode");
        List<String> failures = new ArrayList<>();
        for (JsonNode c : cases) {
            int[] ids = tok.encode(c.get("text").asText());
            if (!Arrays.equals(TokenizerGoldenTest.ints(c.get("ids")), ids)) {
                failures.add(TokenizerGoldenTest.quote(c.get("text").asText()) + ": expected " + c.get("ids") + " got " + Arrays.toString(ids));
            }
        }
        assertEquals(300, cases.size());
        assertTrue(failures.isEmpty(), failures.size() + " differ:\n" + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
    }

    @Test
    void gemma2TokenizerJsonHasTheGemmaVocabularyAndSpecialIds() throws IOException {
        Tokenizer tok = gemma2Json();
        assertEquals(256000, tok.vocabSize());
        assertEquals(0, tok.padId());
        assertEquals(1, tok.eosId());
        assertEquals(2, tok.bosId());
        assertEquals(3, tok.unkId());
        assertEquals(PieceType.CONTROL, tok.pieceType(106)); // <start_of_turn> is special in this file
        assertEquals(PieceType.BYTE, tok.pieceType(217));
        assertEquals("\t", tok.pieceOf(226)); // HF renamed <0x09>
        assertEquals(-1, tok.imageTokenId());
        assertEquals("Hello world<unused99>", tok.decode(tok.encode("Hello world<unused99>")));
    }

    /** On random text without control tokens or loc/seg strings, tokenizer.json and SentencePiece agree. */
    @Test
    void gemma2TokenizerJsonAgreesWithSentencePieceOnRandomText() throws IOException {
        Tokenizer json = gemma2Json();
        Tokenizer spm = TokenizerGoldenTest.tokenizer(Fixtures.path("tokenizer", "real", "paligemma2_tokenizer.reconstructed.model"));
        SplittableRandom random = new SplittableRandom(11);
        int compared = 0;
        while (compared < 3000) {
            String s = RandomText.next(random, 120);
            if (s.matches("(?s).*<(bos|eos|pad|unk)>.*|.*<(loc|seg)\\d.*")) continue;
            assertArrayEquals(spm.encode(s), json.encode(s), () -> TokenizerGoldenTest.quote(s));
            compared++;
        }
    }

    /** The only differences between SentencePiece and tokenizer.json on 38,834 strings: HF matches control tokens in text. */
    @Test
    void controlTokensInTextAreTheOnlyDifferenceFromSentencePiece() throws IOException {
        Tokenizer json = gemma2Json();
        Tokenizer spm = TokenizerGoldenTest.tokenizer(Fixtures.path("tokenizer", "real", "paligemma2_tokenizer.reconstructed.model"));
        JsonNode diffs = TokenizerGoldenTest.JSON.readTree(Fixtures.path("tokenizer", "real", "hf_crosscheck_gemma2.json").toFile()).get("diffs");
        assertEquals(8, diffs.size());
        int comparedWithSpm = 0;
        for (JsonNode d : diffs) {
            String text = d.get("text").asText();
            assertArrayEquals(TokenizerGoldenTest.ints(d.get("hf")), json.encode(text), text);
            if (!text.contains("<loc") && !text.contains("<seg")) { // PaliGemma 2 has these as pieces, Gemma 2 does not
                assertArrayEquals(TokenizerGoldenTest.ints(d.get("spm")), spm.encode(text), text);
                comparedWithSpm++;
            }
        }
        assertEquals(4, comparedWithSpm);
    }
}
