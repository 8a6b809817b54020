package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.testing.Fixtures;

/**
 * The fixture config.json files omit most fields, like the real ones; resolving the defaults must give
 * exactly the values the reference resolved ({@code config_resolved} in each golden manifest).
 */
class ConfigResolutionTest {

    static Stream<String> models() {
        return Stream.of(Fixtures.MODELS);
    }

    @ParameterizedTest
    @MethodSource("models")
    void resolvedConfigEqualsReference(String model) throws IOException {
        JsonNode resolved = new ObjectMapper().readTree(Fixtures.path("golden", model, "manifest.json").toFile())
                .get("config_resolved");
        PaliGemmaConfig c = PaliGemmaConfig.load(Fixtures.path(model));

        assertEquals(resolved.get("image_token_index").asInt(), c.imageTokenIndex());
        assertEquals(resolved.get("pad_token_id").asInt(), c.padTokenId());
        assertEquals(resolved.get("bos_token_id").asInt(), c.bosTokenId());
        assertArrayEquals(new int[] {resolved.get("eos_token_id").asInt()}, c.eosTokenIds());
        assertEquals(resolved.get("projection_dim").asInt(), c.projectionDim());

        JsonNode v = resolved.get("vision_config");
        VisionConfig vc = c.vision();
        assertEquals(v.get("hidden_size").asInt(), vc.hiddenSize());
        assertEquals(v.get("intermediate_size").asInt(), vc.intermediateSize());
        assertEquals(v.get("num_hidden_layers").asInt(), vc.numHiddenLayers());
        assertEquals(v.get("num_attention_heads").asInt(), vc.numAttentionHeads());
        assertEquals(v.get("num_channels").asInt(), vc.numChannels());
        assertEquals(v.get("image_size").asInt(), vc.imageSize());
        assertEquals(v.get("patch_size").asInt(), vc.patchSize());
        assertEquals(v.get("layer_norm_eps").asDouble(), vc.layerNormEps());
        assertEquals(v.get("hidden_act").asText(), vc.hiddenAct());
        assertEquals(v.get("projection_dim").asInt(), vc.projectionDim());

        JsonNode t = resolved.get("text_config");
        TextConfig tc = c.text();
        assertEquals(t.get("model_type").asText(), tc.modelType());
        assertEquals(t.get("vocab_size").asInt(), tc.vocabSize());
        assertEquals(t.get("hidden_size").asInt(), tc.hiddenSize());
        assertEquals(t.get("intermediate_size").asInt(), tc.intermediateSize());
        assertEquals(t.get("num_hidden_layers").asInt(), tc.numHiddenLayers());
        assertEquals(t.get("num_attention_heads").asInt(), tc.numAttentionHeads());
        assertEquals(t.get("num_key_value_heads").asInt(), tc.numKeyValueHeads());
        assertEquals(t.get("head_dim").asInt(), tc.headDim());
        assertEquals(t.get("rms_norm_eps").asDouble(), tc.rmsNormEps());
        assertEquals(t.get("rope_theta").asDouble(), tc.ropeTheta());
        assertEquals(t.get("max_position_embeddings").asInt(), tc.maxPositionEmbeddings());
        assertEquals(t.get("hidden_activation").asText(), tc.hiddenActivation());
        assertEquals(t.get("attention_bias").asBoolean(), tc.attentionBias());
        assertEquals(t.get("tie_word_embeddings").asBoolean(), tc.tieWordEmbeddings());
        assertEquals(t.get("num_image_tokens").asInt(), c.numImageTokens());
        if (tc.isGemma2()) {
            assertEquals(t.get("query_pre_attn_scalar").asDouble(), tc.queryPreAttnScalar());
            assertEquals(t.get("attn_logit_softcapping").asDouble(), tc.attnLogitSoftcap());
            assertEquals(t.get("final_logit_softcapping").asDouble(), tc.finalLogitSoftcap());
            assertEquals(t.get("sliding_window").asInt(), tc.slidingWindow());
            for (int i = 0; i < tc.numHiddenLayers(); i++) {
                assertEquals(i % 2 == 0, tc.isSlidingWindowLayer(i), "layer " + i);
            }
            assertTrue(tc.postNorms());
        } else {
            // Gemma 1: no such fields in the reference config; queries scale by head_dim, nothing is capped.
            assertFalse(t.has("query_pre_attn_scalar"));
            assertEquals(tc.headDim(), tc.queryPreAttnScalar());
            assertNull(tc.attnLogitSoftcap());
            assertNull(tc.finalLogitSoftcap());
            assertNull(tc.slidingWindow());
            assertFalse(tc.postNorms());
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void generationConfigFillsDefaults(String model) {
        PaliGemmaConfig c = PaliGemmaConfig.load(Fixtures.path(model));
        GenerationConfig g = GenerationConfig.load(Fixtures.path(model), c);
        assertEquals(2, g.bosTokenId());
        assertArrayEquals(new int[] {1}, g.eosTokenIds());
        assertEquals(0, g.padTokenId());
        assertEquals(20, g.maxLength());
        assertFalse(g.doSample());
    }
}
