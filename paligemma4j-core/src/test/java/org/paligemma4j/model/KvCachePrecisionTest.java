package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.BeamSearch;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.Golden;

/**
 * The bfloat16 KV cache option: off by default; when on, the caches hold half the bytes, the logits move by
 * no more than rounding keys and values to bfloat16 can explain, and greedy decoding, beams and the batched
 * step run over it.
 */
class KvCachePrecisionTest {

    static Stream<Golden> cases() {
        return Golden.all().stream();
    }

    @Test
    void float32IsTheDefaultAndNamesParse() {
        try (PaliGemmaModel m = PaliGemmaModel.open(Fixtures.path("paligemma2-tiny"))) {
            assertEquals(KvCachePrecision.FLOAT32, m.kvCachePrecision());
            assertEquals(KvCachePrecision.FLOAT32, m.newCache(8).precision());
        }
        assertEquals(KvCachePrecision.BFLOAT16, KvCachePrecision.parse("BF16"));
        assertEquals(KvCachePrecision.FLOAT32, KvCachePrecision.parse("float32"));
        var e = assertThrows(IllegalArgumentException.class, () -> KvCachePrecision.parse("fp8"));
        assertTrue(e.getMessage().contains("'fp8'"), e.getMessage());
    }

    /**
     * Measured on the fixtures (2026-12-07): the largest logit moved by 0.5–1.6% of the logits' range, the RMS by
     * 0.08–0.18%. Rounding keys and values changes each by at most 2⁻⁹ of itself; the random-weight tiny models
     * amplify that at a few sensitive positions (the max), not on the whole (the RMS). A misplaced row or a
     * missing widening moves them by tens of percent.
     */
    private static final double MAX_OF_RANGE = 0.025, RMS_OF_RANGE = 0.003;

    /**
     * Prefill logits over a bf16 cache against the float32 run, relative to the logits' range: small, and not
     * zero (the option is really applied).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bf16CacheMovesLogitsOnlyByRounding(Golden g) {
        try (PaliGemmaModel m = PaliGemmaModel.open(g.modelDir())) {
            float[] pixels = g.floats("pixel_values");
            int[] ids = g.ints("input_ids");
            int prefix = g.entry().get("prefix_len").asInt();
            var semantics = GoldenParityTest.forwardSemantics(g);
            var image = m.encodeImage(pixels);
            float[][] logits = new float[2][];
            long[] bytes = new long[2];
            for (KvCachePrecision p : KvCachePrecision.values()) {
                m.setKvCachePrecision(p);
                KvCache cache = m.newCache(ids.length);
                float[] x = m.embedPrompt(ids, image);
                m.decode(x, ids.length, cache, prefix, semantics, null);
                logits[p.ordinal()] = m.logits(x, 0, ids.length);
                bytes[p.ordinal()] = cache.bytes();
            }
            assertEquals(bytes[0], 2 * bytes[1], "a bf16 cache holds half the bytes");
            double maxDiff = Golden.maxAbsDiff(logits[0], logits[1], 0, logits[0].length);
            float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
            for (float v : logits[0]) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            double relative = maxDiff / (hi - lo), sum = 0;
            for (int i = 0; i < logits[0].length; i++) sum += (logits[0][i] - logits[1][i]) * (double) (logits[0][i] - logits[1][i]);
            double rms = Math.sqrt(sum / logits[0].length);
            System.out.printf("KVBF16 %s: max |Δlogit| %.3g (%.3f%% of the logits' range %.3g), rms %.3g (%.4f%%)%n", g, maxDiff,
                    100 * relative, hi - lo, rms, 100 * rms / (hi - lo));
            assertTrue(maxDiff > 0, "the bf16 cache changed nothing: is it applied?");
            assertTrue(relative < MAX_OF_RANGE, g + ": logits moved by " + maxDiff + " of a range of " + (hi - lo));
            assertTrue(rms / (hi - lo) < RMS_OF_RANGE, g + ": logits moved by " + rms + " (RMS) of a range of " + (hi - lo));
        }
    }

    /** Greedy generation, the batched step and beam search (prompt shared in place, beams copied) over bf16 caches. */
    @Test
    void generationBatchedStepsAndBeamsRunOverBf16Caches() throws Exception {
        for (String name : List.of("paligemma-tiny", "paligemma2-tiny")) {
            try (PaliGemma pg = PaliGemma.open(Fixtures.path(name)).withKvCache(KvCachePrecision.BFLOAT16)) {
                var image = ImageLoader.load(Fixtures.path("images", "shapes_text.png"));
                var options = GenerationOptions.defaults().withMaxNewTokens(12);
                var greedy = pg.generate(List.of(image), "caption en", options, null);
                // Beam search with one beam is greedy search: over the shared bf16 prompt it must agree.
                var prepared = pg.prepare(List.of(image), "caption en", 12);
                var beams = BeamSearch.search(pg.model(), prepared.ids(), prepared.image(),
                        new BeamSearch.Options(1, 1, 1.0, 12, pg.stopIds(), SlidingWindowSemantics.TRANSFORMERS));
                assertArrayEquals(greedy.ids(), beams.get(0).ids(), name);
                var three = BeamSearch.search(pg.model(), prepared.ids(), prepared.image(),
                        new BeamSearch.Options(3, 2, 1.0, 12, pg.stopIds(), SlidingWindowSemantics.TRANSFORMERS));
                assertEquals(2, three.size());
                assertNotEquals(0, three.get(0).ids().length);
            }
        }
    }

    /**
     * However the layers are spread over arrays (all in one, the default; two per array; one each, as for a
     * cache too long for one array), decoding gives the same logits, in both precisions.
     */
    @Test
    void layersSpreadOverSeveralArraysGiveTheSameLogits() {
        Golden g = Golden.cases("paligemma2-tiny").getFirst();
        try (PaliGemmaModel m = PaliGemmaModel.open(g.modelDir())) {
            float[] pixels = g.floats("pixel_values");
            int[] ids = g.ints("input_ids");
            int prefix = g.entry().get("prefix_len").asInt();
            var image = m.encodeImage(pixels);
            var t = m.config().text();
            int perLayer = (ids.length + 2) * t.numKeyValueHeads() * t.headDim();
            for (KvCachePrecision p : KvCachePrecision.values()) {
                float[] expected = null;
                for (int maxArray : new int[] {Integer.MAX_VALUE - 8, 2 * perLayer, perLayer}) {
                    KvCache cache = new KvCache(t.numHiddenLayers(), ids.length + 2, t.numKeyValueHeads(), t.headDim(), p, maxArray);
                    float[] x = m.embedPrompt(ids, image);
                    m.decode(x, ids.length, cache, prefix, SlidingWindowSemantics.TRANSFORMERS, null);
                    // Two decode steps: one over this cache alone, one sharing it as a beam does.
                    float[] step = m.embedTokens(new int[] {ids[ids.length - 1]});
                    m.decodeStep(step, 1, new KvCache[] {cache}, new int[] {prefix}, SlidingWindowSemantics.TRANSFORMERS);
                    KvCache beam = KvCache.sharing(cache, 1);
                    float[] next = m.embedTokens(new int[] {ids[1]});
                    m.decodeStep(next, 1, new KvCache[] {beam}, new int[] {prefix}, SlidingWindowSemantics.TRANSFORMERS);
                    float[] logits = m.logits(next, 0, 1);
                    if (expected == null) expected = logits;
                    else assertArrayEquals(expected, logits, 0f, p + ", arrays of at most " + maxArray);
                }
            }
        }
    }
}
