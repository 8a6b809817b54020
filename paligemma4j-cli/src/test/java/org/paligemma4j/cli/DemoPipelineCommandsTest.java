package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.io.InitialCheckpoint;
import org.paligemma4j.io.SafetensorsFile;
import org.paligemma4j.io.WeightNames;
import org.paligemma4j.tokenizer.Tokenizer;

/**
 * The demo model's pipeline from outside, on a tiny architecture: {@code scenes} → {@code init} → the strict loader,
 * {@code inspect}, {@code generate} and a few {@code train --full} steps → {@code scenes-score}.
 */
class DemoPipelineCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TINY = """
            {
              "model_type": "paligemma",
              "projection_dim": 32,
              "text_config": {"model_type": "gemma", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                              "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16},
              "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 16, "intermediate_size": 32,
                                "num_hidden_layers": 1, "num_attention_heads": 2, "image_size": 28, "patch_size": 14,
                                "projection_dim": 32}
            }
            """;

    @TempDir
    Path tmp;

    private Path init(String name, long seed) throws IOException {
        Path config = tmp.resolve("tiny.json");
        Files.writeString(config, TINY);
        Path out = tmp.resolve(name);
        CliRunner.Result r = CliRunner.run("init", "--config", config.toString(), "--out", out.toString(), "--seed", Long.toString(seed));
        assertEquals(0, r.exitCode(), r.err());
        return out;
    }

    private Path scenes(int count) {
        Path data = tmp.resolve("scenes");
        CliRunner.Result r = CliRunner.run("scenes", "--count", Integer.toString(count), "--seed", "4", "--size", "56", "--out", data.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains(count + " scenes"), r.out());
        return data;
    }

    @Test
    void initWritesTheHubLayoutThatTheStrictLoaderInspectAndGenerateAccept() throws Exception {
        Path model = init("model", 0);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.model", "tokenizer_config.json",
                "special_tokens_map.json", "added_tokens.json", "preprocessor_config.json", "generation_config.json")) {
            assertTrue(Files.isRegularFile(model.resolve(f)), f);
        }
        JsonNode config = JSON.readTree(model.resolve("config.json").toFile());
        Tokenizer tok = Tokenizer.load(model);
        assertEquals("paligemma", config.get("model_type").asText());
        assertEquals(tok.imageTokenId(), config.get("image_token_index").asInt());
        assertEquals(tok.imageTokenId() + InitialCheckpoint.PADDING_ROWS, config.get("text_config").get("vocab_size").asInt());
        assertEquals(4, config.get("text_config").get("num_image_tokens").asInt());
        JsonNode added = JSON.readTree(model.resolve("tokenizer_config.json").toFile()).get("added_tokens_decoder");
        assertEquals("<loc0000>", added.get(Integer.toString(tok.locId(0))).get("content").asText());
        assertEquals("<seg127>", added.get(Integer.toString(tok.segId(127))).get("content").asText());
        assertEquals("<image>", added.get(Integer.toString(tok.imageTokenId())).get("content").asText());

        try (PaliGemma pg = PaliGemma.open(model)) {
            assertEquals(tok.imageTokenId(), pg.model().config().imageTokenIndex());
        }
        CliRunner.Result inspect = CliRunner.run("inspect", "--model", model.toString());
        assertEquals(0, inspect.exitCode(), inspect.err());

        Path data = scenes(2);
        CliRunner.Result gen = CliRunner.run("generate", "--model", model.toString(), "--image",
                data.resolve("images/000000.png").toString(), "--prompt", "detect red circle", "--max-new-tokens", "3", "--json");
        assertEquals(0, gen.exitCode(), gen.err());
        JsonNode answer = JSON.readTree(gen.out().strip());
        assertTrue(answer.get("ids").size() >= 1 && answer.get("ids").size() <= 3, gen.out());
    }

    @Test
    void initIsDeterministicPerSeedAndLocationEmbeddingsStartOrdinal() throws Exception {
        Path a = init("a", 7), b = init("b", 7), c = init("c", 8);
        assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")));
        assertNotEquals(Files.mismatch(a.resolve("model.safetensors"), c.resolve("model.safetensors")), -1L);
        Tokenizer tok = Tokenizer.load(a);
        try (SafetensorsFile f = SafetensorsFile.open(a.resolve("model.safetensors"))) {
            float[] embed = f.tensor(WeightNames.text("embed_tokens.weight")).toFloatArray();
            int hidden = 32;
            float[] loc100 = row(embed, tok.locId(100), hidden);
            assertArrayEquals(InitialCheckpoint.locationEmbedding(100, hidden), loc100);
            double near = cosine(loc100, row(embed, tok.locId(101), hidden));
            double far = cosine(loc100, row(embed, tok.locId(700), hidden));
            assertTrue(near > 0.9 && near > far + 0.3, near + " vs " + far);
            float[] norm = f.tensor(WeightNames.text("norm.weight")).toFloatArray();
            for (float v : norm) assertEquals(0f, v, "Gemma's RMSNorm scales by 1 + w");
        }
    }

    @Test
    void visionPositionsStartAsTwoDimensionalSinesAndTheProjectorAtTheScaleOfTextTokens() throws Exception {
        Path a = init("a", 3);
        try (SafetensorsFile f = SafetensorsFile.open(a.resolve("model.safetensors"))) {
            float[] positions = f.tensor(WeightNames.VISION + "embeddings.position_embedding.weight").toFloatArray();
            assertArrayEquals(InitialCheckpoint.patchPositionEmbeddings(2, 16), positions);
            // patches in the same row share the row half, patches in the same column the column half
            assertArrayEquals(java.util.Arrays.copyOfRange(positions, 0, 8), java.util.Arrays.copyOfRange(positions, 16, 24));
            assertArrayEquals(java.util.Arrays.copyOfRange(positions, 8, 16), java.util.Arrays.copyOfRange(positions, 40, 48));
            float[] projector = f.tensor(WeightNames.projector("weight")).toFloatArray();
            double sumSq = 0;
            for (float v : projector) sumSq += v * v;
            double std = Math.sqrt(sumSq / projector.length);
            // 1/sqrt(fan_in 16) · sqrt(text hidden 32) = 1.41
            assertTrue(std > 1.0 && std < 1.9, "projector std " + std);
        }
    }

    @Test
    void convertStoresTheWeightsAsBf16RoundedToNearestEvenAndKeepsEverythingElse() throws Exception {
        Path model = init("model", 2);
        Path half = tmp.resolve("bf16");
        CliRunner.Result r = CliRunner.run("convert", "--model", model.toString(), "--out", half.toString(), "--dtype", "bf16");
        assertEquals(0, r.exitCode(), r.err());
        for (String file : List.of("tokenizer.model", "tokenizer_config.json", "preprocessor_config.json")) {
            assertArrayEquals(Files.readAllBytes(model.resolve(file)), Files.readAllBytes(half.resolve(file)), file);
        }
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var before = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(model.resolve("config.json").toFile());
        var after = json.readTree(half.resolve("config.json").toFile());
        assertEquals("float32", before.get("torch_dtype").asText());
        assertEquals("bfloat16", after.get("torch_dtype").asText(), "the config declares the stored type");
        before.put("torch_dtype", "bfloat16");
        assertEquals(before, after, "and keeps every other setting");
        try (SafetensorsFile from = SafetensorsFile.open(model.resolve("model.safetensors"));
             SafetensorsFile to = SafetensorsFile.open(half.resolve("model.safetensors"))) {
            assertEquals(from.tensors().keySet(), to.tensors().keySet());
            for (String name : from.tensors().keySet()) {
                assertEquals(org.paligemma4j.io.DType.BF16, to.tensor(name).dtype(), name);
                assertArrayEquals(from.tensor(name).shape(), to.tensor(name).shape(), name);
                float[] original = from.tensor(name).toFloatArray(), converted = to.tensor(name).toFloatArray();
                for (int i = 0; i < original.length; i++) {
                    float expected = org.paligemma4j.tensor.HalfFloats.bf16ToFloat(org.paligemma4j.tensor.HalfFloats.floatToBf16(original[i]));
                    if (expected != converted[i]) throw new AssertionError(name + "[" + i + "]: " + converted[i] + " != " + expected);
                }
            }
            assertTrue(Files.size(half.resolve("model.safetensors")) < Files.size(model.resolve("model.safetensors")) * 0.6);
        }
        try (PaliGemma pg = PaliGemma.open(half)) {
            assertEquals(4, pg.model().config().numImageTokens());
        }
        CliRunner.Result bad = CliRunner.run("convert", "--model", model.toString(), "--out", tmp.resolve("x").toString(), "--dtype", "int3");
        assertNotEquals(0, bad.exitCode());
        assertTrue(bad.err().contains("--dtype") && bad.err().contains("int3"), bad.err());
        CliRunner.Result none = CliRunner.run("convert", "--model", tmp.resolve("nope").toString(), "--out", tmp.resolve("y").toString(), "--dtype", "bf16");
        assertNotEquals(0, none.exitCode());
        assertTrue(none.err().contains("nope"), none.err());
    }

    private static float[] row(float[] m, int r, int width) {
        return java.util.Arrays.copyOfRange(m, r * width, (r + 1) * width);
    }

    private static double cosine(float[] x, float[] y) {
        double xy = 0, xx = 0, yy = 0;
        for (int i = 0; i < x.length; i++) {
            xy += x[i] * y[i];
            xx += x[i] * x[i];
            yy += y[i] * y[i];
        }
        return xy / Math.sqrt(xx * yy);
    }

    @Test
    void fullTrainingRunsOnAnInitialisedModelAndScoresComeBackPerTask() throws Exception {
        Path model = init("model", 1);
        Path data = scenes(3);
        Path out = tmp.resolve("run");
        CliRunner.Result train = CliRunner.run("train", "--model", model.toString(), "--data", data.resolve("data.jsonl").toString(),
                "--full", "--lr", "1e-3", "--batch-size", "2", "--steps", "2", "--save-every", "1", "--out", out.toString());
        assertEquals(0, train.exitCode(), train.err());
        assertEquals(2, Files.readAllLines(out.resolve("training_log.jsonl")).size());
        assertTrue(Files.isRegularFile(out.resolve("checkpoint-1/parameters.safetensors")));

        // Continuing from that run's output: the new run keeps its own log, not a copy of the earlier one's.
        Files.writeString(out.resolve("metrics.jsonl"), "{\"step\":1}\n");
        Path next = tmp.resolve("next");
        CliRunner.Result more = CliRunner.run("train", "--model", out.toString(), "--data", data.resolve("data.jsonl").toString(),
                "--full", "--lr", "1e-3", "--batch-size", "2", "--steps", "1", "--out", next.toString());
        assertEquals(0, more.exitCode(), more.err());
        assertEquals(1, Files.readAllLines(next.resolve("training_log.jsonl")).size(), "this run's one step");
        assertEquals(2, Files.readAllLines(next.resolve("training_log.csv")).size(), "header and this run's step");
        assertFalse(Files.exists(next.resolve("metrics.jsonl")), "the earlier run's metrics stay with it");
        assertTrue(Files.isRegularFile(next.resolve("tokenizer.model")) && Files.isRegularFile(next.resolve("config.json")));

        // Perfect answers score 100 on every task; answers that say nothing score 0.
        List<String> perfect = Files.readAllLines(data.resolve("data.jsonl")).stream()
                .map(l -> "{\"text\":" + quote(parse(l).get("suffix").asText()) + "}").toList();
        Files.write(tmp.resolve("perfect.jsonl"), perfect);
        CliRunner.Result score = CliRunner.run("scenes-score", "--data", data.toString(),
                "--predictions", tmp.resolve("perfect.jsonl").toString(), "--step", "5");
        assertEquals(0, score.exitCode(), score.err());
        JsonNode s = JSON.readTree(score.out());
        assertEquals(5, s.get("step").asInt());
        assertEquals(100.0, s.get("caption_exact").asDouble());
        assertEquals(100.0, s.get("detect_precision").asDouble());
        assertEquals(100.0, s.get("detect_recall").asDouble());
        Files.write(tmp.resolve("empty.jsonl"), perfect.stream().map(l -> "{\"text\":\"\"}").toList());
        JsonNode zero = JSON.readTree(CliRunner.run("scenes-score", "--data", data.toString(),
                "--predictions", tmp.resolve("empty.jsonl").toString()).out());
        assertEquals(0.0, zero.get("caption_exact").asDouble());
        assertEquals(0.0, zero.get("detect_recall").asDouble());

        // eval's --predictions lines: "prediction", and with --quantized "quantized_prediction"
        List<String> evalLines = Files.readAllLines(data.resolve("data.jsonl")).stream()
                .map(l -> "{\"prefix\":" + quote(parse(l).get("prefix").asText()) + ",\"prediction\":" + quote(parse(l).get("suffix").asText())
                        + ",\"quantized_prediction\":\"\"}").toList();
        Files.write(tmp.resolve("eval.jsonl"), evalLines);
        JsonNode fromEval = JSON.readTree(CliRunner.run("scenes-score", "--data", data.toString(), "--predictions", tmp.resolve("eval.jsonl").toString()).out());
        assertEquals(100.0, fromEval.get("caption_exact").asDouble());
        JsonNode quantized = JSON.readTree(CliRunner.run("scenes-score", "--data", data.toString(), "--predictions", tmp.resolve("eval.jsonl").toString(),
                "--quantized").out());
        assertEquals(0.0, quantized.get("caption_exact").asDouble());
        CliRunner.Result noQuantized = CliRunner.run("scenes-score", "--data", data.toString(), "--predictions", tmp.resolve("perfect.jsonl").toString(), "--quantized");
        assertNotEquals(0, noQuantized.exitCode());
        assertTrue(noQuantized.err().contains("quantized_prediction"), noQuantized.err());
        List<String> shifted = new java.util.ArrayList<>(evalLines);
        java.util.Collections.rotate(shifted, 1);
        if (!shifted.equals(evalLines)) {
            Files.write(tmp.resolve("shifted.jsonl"), shifted);
            CliRunner.Result mismatch = CliRunner.run("scenes-score", "--data", data.toString(), "--predictions", tmp.resolve("shifted.jsonl").toString());
            assertNotEquals(0, mismatch.exitCode(), "answers of other prompts are refused, not scored");
            assertTrue(mismatch.err().contains("asks"), mismatch.err());
        }

        Files.write(tmp.resolve("short.jsonl"), perfect.subList(0, 1));
        CliRunner.Result bad = CliRunner.run("scenes-score", "--data", data.toString(), "--predictions", tmp.resolve("short.jsonl").toString());
        assertNotEquals(0, bad.exitCode());
        assertTrue(bad.err().contains("short.jsonl: 1 answers"), bad.err());
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String quote(String s) {
        return "\"" + Json.escape(s) + "\"";
    }

    @Test
    void badInputIsAClearError() throws IOException {
        CliRunner.Result missing = CliRunner.run("init", "--config", tmp.resolve("nope.json").toString(), "--out", tmp.resolve("m").toString());
        assertNotEquals(0, missing.exitCode());
        assertTrue(missing.err().contains("nope.json"), missing.err());
        Path noText = tmp.resolve("no-text.json");
        Files.writeString(noText, "{\"vision_config\": {}}");
        CliRunner.Result incomplete = CliRunner.run("init", "--config", noText.toString(), "--out", tmp.resolve("m").toString());
        assertEquals(1, incomplete.exitCode());
        assertTrue(incomplete.err().contains("no-text.json") && incomplete.err().contains("text_config"), incomplete.err());
        Path badHeads = tmp.resolve("bad-heads.json");
        Files.writeString(badHeads, TINY.replace("\"num_attention_heads\": 2, \"image_size\"", "\"num_attention_heads\": 3, \"image_size\""));
        CliRunner.Result heads = CliRunner.run("init", "--config", badHeads.toString(), "--out", tmp.resolve("m2").toString());
        assertEquals(1, heads.exitCode());
        assertTrue(heads.err().contains("bad-heads.json"), heads.err());
        assertTrue(!Files.exists(tmp.resolve("m2").resolve("model.safetensors")));
        CliRunner.Result zero = CliRunner.run("scenes", "--count", "0", "--seed", "1", "--out", tmp.resolve("s").toString());
        assertNotEquals(0, zero.exitCode());
        assertTrue(zero.err().contains("--count"), zero.err());
        CliRunner.Result style = CliRunner.run("scenes", "--count", "1", "--seed", "1", "--style", "huge", "--out", tmp.resolve("s").toString());
        assertNotEquals(0, style.exitCode());
        assertTrue(style.err().contains("--style") && style.err().contains("huge"), style.err());
        CliRunner.Result large = CliRunner.run("scenes", "--count", "2", "--seed", "1", "--size", "64", "--style", "large",
                "--out", tmp.resolve("large").toString());
        assertEquals(0, large.exitCode(), large.err());
        assertTrue(Files.exists(tmp.resolve("large").resolve("data.jsonl")));
    }
}
