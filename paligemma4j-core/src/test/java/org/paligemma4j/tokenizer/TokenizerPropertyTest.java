package org.paligemma4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.paligemma4j.testing.Fixtures;

/** Properties over random Unicode text, lone surrogates included. */
class TokenizerPropertyTest {

    /** What decode(encode(s)) must give: Java's UTF-8 encoder turns lone surrogates into '?', and ▁ reads back as a space. */
    static String roundTripped(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).replace('\u2581', ' ');
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma_fixture_bpe.model", "real/paligemma_tokenizer.reconstructed.model"})
    void decodeOfEncodeGivesBackTheText(String model) throws IOException {
        Tokenizer tok = TokenizerGoldenTest.tokenizer(Fixtures.path("tokenizer", model));
        SplittableRandom random = new SplittableRandom(20240514);
        for (int i = 0; i < 5000; i++) {
            String s = RandomText.next(random, 80);
            int[] ids = tok.encode(s);
            assertEquals(roundTripped(s), tok.decode(ids), () -> "text " + TokenizerGoldenTest.quote(s));
            for (int id : ids) {
                PieceType type = tok.pieceType(id);
                assertFalse(type == PieceType.CONTROL || type == PieceType.UNKNOWN, () -> "text " + TokenizerGoldenTest.quote(s)
                        + " produced " + type + " id " + id);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma_fixture_bpe.model", "real/paligemma_tokenizer.reconstructed.model"})
    void mergingBetweenBarriersGivesTheSameIdsAsMergingTheWholeText(String model) throws IOException {
        Tokenizer tok = TokenizerGoldenTest.tokenizer(Fixtures.path("tokenizer", model));
        SentencePieceEncoder encoder = (SentencePieceEncoder) tok.encoder();
        SplittableRandom random = new SplittableRandom(99);
        for (int i = 0; i < 3000; i++) {
            String s = RandomText.next(random, 200);
            assertArrayEquals(encoder.encode(s, false), encoder.encode(s, true), () -> TokenizerGoldenTest.quote(s));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma_fixture_bpe.model", "real/paligemma2_tokenizer.reconstructed.model"})
    void streamingDecoderJoinsToDecodeAndNeverSplitsACharacter(String model) throws IOException {
        Tokenizer tok = TokenizerGoldenTest.tokenizer(Fixtures.path("tokenizer", model));
        SplittableRandom random = new SplittableRandom(7);
        int byteBase = tok.idOf("<0x00>");
        for (int i = 0; i < 3000; i++) {
            // ids mixing whole text, raw bytes (often invalid UTF-8), control ids and ids past the vocabulary
            int[] ids = new int[random.nextInt(40)];
            for (int k = 0; k < ids.length; k++) {
                ids[k] = switch (random.nextInt(6)) {
                    case 0, 1, 2 -> byteBase + (random.nextBoolean() ? 0x80 + random.nextInt(0x80) : random.nextInt(0x100));
                    case 3 -> random.nextInt(4);
                    case 4 -> tok.vocabSize() + random.nextInt(64);
                    default -> random.nextInt(tok.vocabSize());
                };
            }
            StreamingDecoder decoder = tok.newStreamingDecoder();
            StringBuilder joined = new StringBuilder();
            for (int id : ids) {
                String chunk = decoder.accept(id);
                assertWholeCharacters(chunk);
                joined.append(chunk);
            }
            String rest = decoder.flush();
            assertWholeCharacters(rest);
            assertEquals(tok.decode(ids), joined.append(rest).toString());
        }
    }

    private static void assertWholeCharacters(String chunk) {
        for (int i = 0; i < chunk.length(); i++) {
            char c = chunk.charAt(i);
            if (Character.isHighSurrogate(c)) {
                assertFalse(i + 1 == chunk.length() || !Character.isLowSurrogate(chunk.charAt(i + 1)), "half a character emitted");
                i++;
            } else {
                assertFalse(Character.isLowSurrogate(c), "half a character emitted");
            }
        }
    }
}
