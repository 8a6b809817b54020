package org.paligemma4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.paligemma4j.testing.Fixtures;

/**
 * Coarse guards for the speed the issue asks for; the figures to report come from TokenizerBench (JMH). Each
 * bound is several times the measured value, so only a change of algorithm (a quadratic merge, a slow load)
 * trips it, not a busy machine.
 */
class TokenizerScalingTest {
    private static final Path REAL = Fixtures.path("tokenizer", "real", "paligemma_tokenizer.reconstructed.model");

    @Test
    void warmLoadOfTheRealVocabularyTakesUnder300Ms() throws IOException {
        for (int i = 0; i < 3; i++) Tokenizer.load(REAL); // warm up
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            Tokenizer.load(REAL);
            best = Math.min(best, System.nanoTime() - t0);
        }
        assertTrue(best < 300_000_000L, "warm load took " + best / 1e6 + " ms");
    }

    @Test
    void encodeTimePerByteStaysFlatFrom100KbTo1Mb() throws IOException {
        Tokenizer tok = TokenizerGoldenTest.tokenizer(REAL);
        StringBuilder b = new StringBuilder();
        SplittableRandom random = new SplittableRandom(3);
        while (b.length() < 1_000_000) b.append(RandomText.next(random, 60)).append(' ');
        String large = b.toString();
        String small = large.substring(0, large.length() / 10);
        double perCharSmall = bestNanos(tok, small) / small.length();
        double perCharLarge = bestNanos(tok, large) / large.length();
        // O(n log n) allows ~1.2x here; an O(n^2) merge would be ~10x
        assertTrue(perCharLarge < 3 * perCharSmall, "time per char grew " + perCharLarge / perCharSmall + "x for 10x the text");
    }

    private static double bestNanos(Tokenizer tok, String text) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            tok.encode(text);
            best = Math.min(best, System.nanoTime() - t0);
        }
        return best;
    }
}
