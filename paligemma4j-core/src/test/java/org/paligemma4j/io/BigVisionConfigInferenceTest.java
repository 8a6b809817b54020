package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Config inference for the published checkpoints: the npz shapes of each published variant (as big_vision stores
 * them) give back its Hub config.json, with the vocabulary fitted to the npz's 257,152 embedding rows.
 */
class BigVisionConfigInferenceTest {

    /** The named dimensions big_vision's arrays of {@code published} have. */
    static Map<String, Long> dimsOf(PaliGemmaConfig c) {
        Map<String, Long> d = new LinkedHashMap<>();
        VisionConfig v = c.vision();
        TextConfig t = c.text();
        d.put("p", (long) v.patchSize());
        d.put("C", 3L);
        d.put("Dv", (long) v.hiddenSize());
        d.put("N", (long) v.numImageTokens());
        d.put("Lv", (long) v.numHiddenLayers());
        d.put("Iv", (long) v.intermediateSize());
        d.put("Hv", (long) v.numAttentionHeads());
        d.put("hdv", (long) v.headDim());
        d.put("D", (long) t.hiddenSize());
        d.put("V", 257152L);
        d.put("L", (long) t.numHiddenLayers());
        d.put("H", (long) t.numAttentionHeads());
        d.put("KV", (long) t.numKeyValueHeads());
        d.put("hd", (long) t.headDim());
        d.put("I", (long) t.intermediateSize());
        return d;
    }

    static PaliGemmaConfig published(String name) throws Exception {
        return PaliGemmaConfig.parse(new JsonFields(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(KnownModels.file(name, "config.json")), name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma-3b-pt-224", "paligemma-3b-pt-448", "paligemma-3b-pt-896", "paligemma2-3b-pt-224",
            "paligemma2-3b-pt-448", "paligemma2-3b-pt-896", "paligemma2-10b-pt-224", "paligemma2-10b-pt-448", "paligemma2-28b-pt-224"})
    void publishedShapesGiveThePublishedConfig(String name) throws Exception {
        PaliGemmaConfig want = published(name);
        var inferred = BigVisionCheckpoint.infer(Path.of("x.npz"), dimsOf(want), want.text().isGemma2(),
                want.text().isGemma2() ? DType.BF16 : DType.F32);
        PaliGemmaConfig got = inferred.config();
        assertEquals(want.vision(), got.vision());
        assertEquals(257152, got.text().vocabSize());
        assertEquals(want.text().withVocabSize(257152).toString().replaceAll("\\[Z@[0-9a-f]+", ""),
                got.text().toString().replaceAll("\\[Z@[0-9a-f]+", ""));
        assertEquals(257152, got.imageTokenIndex());
        assertTrue(inferred.explanation().getFirst().contains("published " + name.substring(0, name.length() - 4)),
                inferred.explanation().getFirst());
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma2-28b-pt-224", "paligemma2-10b-pt-224"})
    void unpublishedSizesOfAGemma2GetThePublishedGemma2Settings(String like) throws Exception {
        Map<String, Long> dims = dimsOf(published(like));
        dims.put("L", dims.get("L") - 2); // a decoder depth no published checkpoint has
        PaliGemmaConfig c = BigVisionCheckpoint.infer(Path.of("x.npz"), dims, true, DType.BF16).config();
        assertEquals(50.0, c.text().attnLogitSoftcap());
        assertEquals(30.0, c.text().finalLogitSoftcap());
        assertEquals(4096, c.text().slidingWindow());
        assertEquals(published(like).text().queryPreAttnScalar(), c.text().queryPreAttnScalar(), "27B scales by hidden/heads");
        assertTrue(c.text().isSlidingWindowLayer(0) && !c.text().isSlidingWindowLayer(1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma-3b-pt-224"})
    void paliGemma1HasNoGemma2Settings(String like) throws Exception {
        Map<String, Long> dims = dimsOf(published(like));
        dims.put("I", 1000L);
        PaliGemmaConfig c = BigVisionCheckpoint.infer(Path.of("x.npz"), dims, false, DType.F32).config();
        assertNull(c.text().attnLogitSoftcap());
        assertNull(c.text().slidingWindow());
        assertEquals(256.0, c.text().queryPreAttnScalar());
        assertEquals("gemma", c.text().modelType());
    }
}
