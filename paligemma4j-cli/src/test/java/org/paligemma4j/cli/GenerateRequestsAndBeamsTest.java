package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.Golden;
import org.paligemma4j.testing.JsonArrays;

/** The decoding contracts of `generate` and `dump`: --requests, beams, several images. */
class GenerateRequestsAndBeamsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] IMAGES = {"shapes_text.png", "photo_like.jpg", "tiny_gray.png"};
    private static final String[] PROMPTS = {"caption en", "detect cat ; dog", "answer en what is this?", "ocr", "segment boat"};

    /** 64 requests in one file: every result line equals the same request run alone with `generate --json`. */
    @Test
    void everyRequestOfAFileEqualsTheSameRequestRunAlone(@TempDir Path dir) throws IOException {
        Files.copy(Fixtures.path("images", "photo_like.jpg"), dir.resolve("local.jpg"));
        String model = Fixtures.path("paligemma2-tiny").toString();
        List<String> lines = new ArrayList<>();
        List<List<String>> alone = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            String image = i % 7 == 3 ? "local.jpg" : Fixtures.path("images", IMAGES[i % IMAGES.length]).toString();
            String prompt = PROMPTS[i % PROMPTS.length];
            int tokens = 3 + (i * 5) % 17;
            StringBuilder line = new StringBuilder("{\"image\":\"" + Json.escape(image) + "\",\"prompt\":\"" + prompt + "\",\"max_new_tokens\":" + tokens);
            List<String> args = new ArrayList<>(List.of("generate", "--model", model, "--image",
                    image.equals("local.jpg") ? dir.resolve("local.jpg").toString() : image, "--prompt", prompt,
                    "--max-new-tokens", Integer.toString(tokens), "--json"));
            if (i % 4 == 1) {
                line.append(",\"temperature\":0.8,\"top_k\":50,\"seed\":").append(i);
                args.addAll(List.of("--temperature", "0.8", "--top-k", "50", "--seed", Integer.toString(i)));
            }
            if (i % 9 == 2) {
                line.append(",\"logprobs\":2");
                args.addAll(List.of("--logprobs", "2"));
            }
            lines.add(line.append('}').toString());
            alone.add(args);
        }
        Path file = dir.resolve("requests.jsonl");
        Files.write(file, lines);
        CliRunner.Result batch = CliRunner.run("generate", "--model", model, "--requests", file.toString(), "--max-batch", "6", "--json");
        assertEquals(0, batch.exitCode(), batch.err());
        List<String> out = batch.out().lines().toList();
        assertEquals(64, out.size());
        for (int i = 0; i < 64; i++) {
            CliRunner.Result single = CliRunner.run(alone.get(i).toArray(String[]::new));
            assertEquals(0, single.exitCode(), single.err());
            assertEquals(JSON.readTree(single.out()), JSON.readTree(out.get(i)), "request " + (i + 1) + ": " + lines.get(i));
        }
    }

    /** --quant applies to single runs, request files and the tasks alike: the same ids as the library's quantized model. */
    @Test
    void quantizedRunsGiveTheQuantizedLibraryModelsIds(@TempDir Path dir) throws IOException {
        Path model = Fixtures.path("paligemma2-tiny"), image = Fixtures.path("images", "photo_like.jpg");
        for (String quant : List.of("q8", "q4")) {
            int[] want;
            try (var pg = org.paligemma4j.PaliGemma.open(model, org.paligemma4j.tensor.WeightFormat.parse(quant))) {
                want = pg.generate(List.of(org.paligemma4j.image.ImageLoader.load(image)), "caption en",
                        org.paligemma4j.generate.GenerationOptions.defaults().withMaxNewTokens(10), null).ids();
            }
            CliRunner.Result single = CliRunner.run("generate", "--model", model.toString(), "--image", image.toString(),
                    "--prompt", "caption en", "--max-new-tokens", "10", "--quant", quant, "--json");
            assertEquals(0, single.exitCode(), single.err());
            assertArrayEquals(want, JsonArrays.ints(JSON.readTree(single.out()).get("ids")), quant);
            Files.writeString(dir.resolve("r.jsonl"), "{\"image\":\"" + Json.escape(image.toString()) + "\",\"prompt\":\"caption en\",\"max_new_tokens\":10}\n");
            CliRunner.Result batch = CliRunner.run("generate", "--model", model.toString(), "--requests", dir.resolve("r.jsonl").toString(),
                    "--quant", quant, "--json");
            assertEquals(0, batch.exitCode(), batch.err());
            assertArrayEquals(want, JsonArrays.ints(JSON.readTree(batch.out()).get("ids")), quant + " --requests");
            CliRunner.Result task = CliRunner.run("caption", "--model", model.toString(), image.toString(), "--max-new-tokens", "10",
                    "--quant", quant, "--json");
            assertEquals(0, task.exitCode(), task.err());
            assertArrayEquals(want, JsonArrays.ints(JSON.readTree(task.out()).get("ids")), quant + " caption");
        }
        CliRunner.Result bad = CliRunner.run("generate", "--model", model.toString(), "--image", image.toString(), "--prompt", "x", "--quant", "q3");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("--quant: unknown weight format 'q3'"), bad.err());
    }

    @Test
    void badLinesGetAnErrorInTheirPlaceAndTheOthersStillRun(@TempDir Path dir) throws IOException {
        String image = Json.escape(Fixtures.path("images", "shapes_text.png").toString());
        Files.writeString(dir.resolve("broken.png"), "not an image");
        Files.write(dir.resolve("r.jsonl"), List.of(
                "{\"image\":\"" + image + "\",\"prompt\":\"caption en\",\"max_new_tokens\":3}",
                "{\"image\":\"" + image + "\",\"prompt\":\"caption en\"",
                "{\"image\":\"missing.png\",\"prompt\":\"ocr\"}",
                "{\"image\":\"broken.png\",\"prompt\":\"ocr\"}",
                "",
                "{\"image\":\"" + image + "\",\"prompt\":\"ocr\",\"max_tokens\":3}",
                "{\"image\":\"" + image + "\",\"prompt\":\"ocr\",\"max_new_tokens\":\"many\"}",
                "{\"image\":\"" + image + "\",\"prompt\":\"" + "word ".repeat(9000) + "\"}",
                "{\"prompt\":\"ocr\"}",
                "{\"image\":\"" + image + "\",\"prompt\":\"ocr\",\"max_new_tokens\":2}"));
        CliRunner.Result r = CliRunner.run("generate", "--model", Fixtures.path("paligemma-tiny").toString(),
                "--requests", dir.resolve("r.jsonl").toString(), "--json");
        assertEquals(1, r.exitCode());
        List<String> out = r.out().lines().toList();
        assertEquals(9, out.size(), r.out());
        assertEquals(3, JSON.readTree(out.get(0)).get("ids").size());
        String[] expected = {null, "line 2: not JSON", "line 3: ", "line 4: ", "line 6: unknown field \"max_tokens\"",
                "line 7: \"max_new_tokens\" must be an integer", "line 8: the prompt has", "line 9: missing \"image\""};
        for (int i = 1; i < expected.length; i++) {
            String error = JSON.readTree(out.get(i)).get("error").asText();
            assertTrue(error.startsWith(expected[i]), "line " + i + ": " + error);
        }
        assertTrue(JSON.readTree(out.get(2)).get("error").asText().contains("missing.png"));
        assertTrue(JSON.readTree(out.get(3)).get("error").asText().contains("broken.png"));
        assertEquals(2, JSON.readTree(out.get(8)).get("ids").size());
        assertTrue(r.err().contains("10 requests") || r.err().contains("9 requests"), r.err());
    }

    @Test
    void theSecondQuestionAboutAnImageReusesItsFeatures(@TempDir Path dir) throws IOException {
        String image = Json.escape(Fixtures.path("images", "photo_like.jpg").toString());
        Files.write(dir.resolve("r.jsonl"), List.of(
                "{\"image\":\"" + image + "\",\"prompt\":\"answer en what is this?\",\"max_new_tokens\":3}",
                "{\"image\":\"" + image + "\",\"prompt\":\"answer en what colour is it?\",\"max_new_tokens\":3}"));
        CliRunner.Result r = CliRunner.run("generate", "--model", Fixtures.path("paligemma-tiny").toString(),
                "--requests", dir.resolve("r.jsonl").toString(), "--max-batch", "1", "--json", "--verbose");
        assertEquals(0, r.exitCode(), r.err());
        List<String> timing = r.err().lines().filter(l -> l.startsWith("line ")).toList();
        assertEquals(2, timing.size(), r.err());
        assertTrue(!timing.get(0).contains("cached") && timing.get(1).contains("(features cached)"), r.err());
        assertTrue(r.err().contains("image features cached: 1 of 2"), r.err());
    }

    /** The beam contract on every beam fixture case of paligemma-tiny, including overridden end ids and penalties. */
    @Test
    void beamSearchPrintsTheReferenceSequencesBestFirst() throws IOException {
        JsonNode manifest = JSON.readTree(Fixtures.path("beam", "paligemma-tiny", "manifest.json").toFile());
        for (JsonNode c : manifest.get("cases")) {
            JsonNode kw = c.get("generate_kwargs");
            List<String> args = new ArrayList<>(List.of("generate", "--model", Fixtures.path("paligemma-tiny").toString(),
                    "--image", Fixtures.root().resolve(c.get("image").asText()).toString(), "--prompt", c.get("prompt").asText(),
                    "--num-beams", kw.get("num_beams").asText(), "--num-return-sequences", kw.get("num_return_sequences").asText(),
                    "--length-penalty", kw.get("length_penalty").asText(), "--max-new-tokens", kw.get("max_new_tokens").asText(), "--json"));
            int eos = kw.get("eos_token_id").asInt();
            if (eos != 1) args.addAll(List.of("--eos-token-id", Integer.toString(eos)));
            CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
            assertEquals(0, r.exitCode(), r.err());
            JsonNode sequences = JSON.readTree(r.out()).get("sequences");
            JsonNode expected = c.get("hf").get("generated");
            assertEquals(expected.size(), sequences.size());
            for (int i = 0; i < expected.size(); i++) {
                List<Integer> want = new ArrayList<>();
                for (JsonNode id : expected.get(i)) {
                    want.add(id.asInt());
                    if (id.asInt() == eos) break;
                }
                assertArrayEquals(want.stream().mapToInt(Integer::intValue).toArray(), JsonArrays.ints(sequences.get(i).get("ids")),
                        c.get("name").asText() + " sequence " + i);
                assertEquals(c.get("hf").get("sequences_scores").get(i).asDouble(), sequences.get(i).get("score").asDouble(), 1e-4);
                assertTrue(sequences.get(i).get("text").isTextual());
            }
        }
    }

    @Test
    void severalImagesGiveTheMultiImageGoldensIdsAndDumpStacksThem(@TempDir Path dir) throws IOException {
        Path golden = Fixtures.path("multi_image", "paligemma-tiny", "two_images_caption");
        String model = Fixtures.path("paligemma-tiny").toString();
        String a = Fixtures.path("images", "shapes_text.png").toString(), b = Fixtures.path("images", "photo_like.jpg").toString();
        CliRunner.Result r = CliRunner.run("generate", "--model", model, "--image", a, "--image", b, "--prompt", "caption en",
                "--max-new-tokens", "12", "--json");
        assertEquals(0, r.exitCode(), r.err());
        assertArrayEquals(NpyArray.read(golden.resolve("generated_ids.npy")).toIntArray(), JsonArrays.ints(JSON.readTree(r.out()).get("ids")));

        CliRunner.Result d = CliRunner.run("dump", "--model", model, "--image", a, "--image", b, "--prompt", "caption en",
                "--max-new-tokens", "12", "--out", dir.toString());
        assertEquals(0, d.exitCode(), d.err());
        for (String name : List.of("pixel_values", "vision_last_hidden_state", "image_features_projected", "image_features_scaled")) {
            NpyArray want = NpyArray.read(golden.resolve(name + ".npy")), got = NpyArray.read(dir.resolve(name + ".npy"));
            assertArrayEquals(want.shape(), got.shape(), name);
            Golden.assertClose(want.toFloatArray(), got.toFloatArray(), 1e-5, name);
        }
        NpyArray resized = NpyArray.read(dir.resolve("image_resized_uint8.npy"));
        assertArrayEquals(NpyArray.read(golden.resolve("image_resized_uint8.npy")).shape(), resized.shape());
        assertArrayEquals(NpyArray.read(golden.resolve("input_ids.npy")).toIntArray(), NpyArray.read(dir.resolve("input_ids.npy")).toIntArray());
        Golden.assertClose(NpyArray.read(golden.resolve("logits.npy")).toFloatArray(), NpyArray.read(dir.resolve("logits.npy")).toFloatArray(),
                2e-4, "logits");
        assertArrayEquals(NpyArray.read(golden.resolve("generated_ids.npy")).toIntArray(), NpyArray.read(dir.resolve("generated_ids.npy")).toIntArray());
    }

    @Test
    void videoFramesAreSeveralImages(@TempDir Path dir) throws IOException {
        Path frames = Files.createDirectory(dir.resolve("frames"));
        Files.copy(Fixtures.path("images", "shapes_text.png"), frames.resolve("0001.png"));
        Files.copy(Fixtures.path("images", "tiny_gray.png"), frames.resolve("0002.png"));
        Files.copy(Fixtures.path("images", "photo_like.jpg"), frames.resolve("0003.jpg"));
        String model = Fixtures.path("paligemma-tiny").toString();
        CliRunner.Result video = CliRunner.run("generate", "--model", model, "--video", frames.toString(), "--frames", "2",
                "--prompt", "caption en", "--max-new-tokens", "12", "--json");
        assertEquals(0, video.exitCode(), video.err());
        // Two frames of three: the first and the last, i.e. the multi-image golden's two images.
        assertArrayEquals(NpyArray.read(Fixtures.path("multi_image", "paligemma-tiny", "two_images_caption", "generated_ids.npy")).toIntArray(),
                JsonArrays.ints(JSON.readTree(video.out()).get("ids")));
    }

    @Test
    void stopStringsEndTheTextAndLogprobsAreReported() throws IOException {
        String model = Fixtures.path("paligemma-tiny").toString(), image = Fixtures.path("images", "shapes_text.png").toString();
        CliRunner.Result free = CliRunner.run("generate", "--model", model, "--image", image, "--prompt", "caption en",
                "--max-new-tokens", "20", "--json", "--logprobs", "3");
        JsonNode out = JSON.readTree(free.out());
        assertEquals(20, out.get("logprobs").size());
        JsonNode first = out.get("logprobs").get(0);
        assertEquals(out.get("ids").get(0).asInt(), first.get("id").asInt());
        assertEquals(3, first.get("top").size());
        assertEquals(first.get("id").asInt(), first.get("top").get(0).get("id").asInt(), "greedy picks the most likely token");
        assertTrue(first.get("logprob").asDouble() < 0);
        String text = out.get("text").asText();
        String stop = text.substring(5, 8);
        CliRunner.Result stopped = CliRunner.run("generate", "--model", model, "--image", image, "--prompt", "caption en",
                "--max-new-tokens", "20", "--stop", stop);
        assertEquals(text.substring(0, text.indexOf(stop)) + "\n", stopped.out());
    }
}
