package org.paligemma4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.model.SlidingWindowSemantics;
import org.paligemma4j.testing.Fixtures;

/** Every case of fixtures/beam: the same sequences in the same order, scores within 1e-4. */
class BeamSearchTest {

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String model : List.of("paligemma-tiny", "paligemma2-tiny")) {
            JsonNode manifest = new ObjectMapper().readTree(Fixtures.path("beam", model, "manifest.json").toFile());
            for (JsonNode c : manifest.get("cases")) out.add(Arguments.of(model, c.get("name").asText(), c));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void beamSearchMatchesTheReference(String modelName, String caseName, JsonNode c) throws IOException {
        JsonNode kwargs = c.get("generate_kwargs");
        int eos = kwargs.get("eos_token_id").asInt();
        var options = new BeamSearch.Options(kwargs.get("num_beams").asInt(), kwargs.get("num_return_sequences").asInt(),
                kwargs.get("length_penalty").asDouble(), kwargs.get("max_new_tokens").asInt(), new int[] {eos},
                SlidingWindowSemantics.TRANSFORMERS);
        try (PaliGemma pg = PaliGemma.open(Fixtures.path(modelName))) {
            var image = ImageLoader.load(Fixtures.root().resolve(Path.of(c.get("image").asText())));
            var prepared = pg.prepare(List.of(image), c.get("prompt").asText(), options.maxNewTokens());
            int[] expectedInput = new ObjectMapper().convertValue(c.get("input_ids"), int[].class);
            assertArrayEquals(expectedInput, prepared.ids(), "input ids");
            List<BeamSearch.Hypothesis> got = BeamSearch.search(pg.model(), prepared.ids(), prepared.image(), options);
            JsonNode generated = c.get("hf").get("generated"), scores = c.get("hf").get("sequences_scores");
            assertEquals(generated.size(), got.size());
            for (int i = 0; i < got.size(); i++) {
                assertArrayEquals(untilEos(generated.get(i), eos), got.get(i).ids(), "sequence " + i);
                assertEquals(scores.get(i).asDouble(), got.get(i).score(), 1e-4, "score " + i);
            }
            assertTrue(got.size() == options.numReturnSequences());
        }
    }

    /** A returned row without the padding after its end-of-sequence id. */
    private static int[] untilEos(JsonNode row, int eos) {
        List<Integer> ids = new ArrayList<>();
        for (JsonNode id : row) {
            ids.add(id.asInt());
            if (id.asInt() == eos) break;
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
