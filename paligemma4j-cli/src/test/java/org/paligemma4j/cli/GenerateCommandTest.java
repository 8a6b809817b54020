package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.Golden;
import org.paligemma4j.testing.JsonArrays;

/** The generate contract, run as a user runs it: the same greedy ids as the reference for every golden case. */
class GenerateCommandTest {

    static Stream<Golden> cases() {
        return Golden.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void jsonOutputHasTheReferenceGreedyIds(Golden g) throws IOException {
        JsonNode gen = g.entry().get("generation");
        int[] expected = g.expectedGreedyIds();
        CliRunner.Result r = CliRunner.run("generate", "--model", g.modelDir().toString(),
                "--image", Fixtures.path(g.entry().get("image").asText()).toString(),
                "--prompt", g.entry().get("prompt").asText(),
                "--max-new-tokens", gen.get("max_new_tokens").asText(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode out = new ObjectMapper().readTree(r.out());
        int[] ids = JsonArrays.ints(out.get("ids"));
        // Steps decided by rounding noise (top-2 margin < 1e-3) are compared teacher-forced in the parity suite.
        int comparable = g.comparableGreedySteps();
        assertArrayEquals(Arrays.copyOf(expected, comparable), Arrays.copyOf(ids, Math.min(ids.length, comparable)), g.toString());
        assertTrue(out.get("text").isTextual());
    }

    @Test
    void streamingOutputEqualsTheJsonText() throws IOException {
        String model = Fixtures.path("paligemma-tiny").toString(), image = Fixtures.path("images", "shapes_text.png").toString();
        CliRunner.Result json = CliRunner.run("generate", "--model", model, "--image", image, "--prompt", "caption en",
                "--max-new-tokens", "20", "--json");
        CliRunner.Result text = CliRunner.run("generate", "--model", model, "--image", image, "--prompt", "caption en",
                "--max-new-tokens", "20");
        assertEquals(new ObjectMapper().readTree(json.out()).get("text").asText() + "\n", text.out());
    }

    /** --kv-cache bf16 runs the whole generation over halved caches; f32, the default, gives the reference's ids. */
    @Test
    void kvCachePrecisionIsAnOption() throws IOException {
        String model = Fixtures.path("paligemma2-tiny").toString(), image = Fixtures.path("images", "shapes_text.png").toString();
        CliRunner.Result plain = CliRunner.run("generate", "--model", model, "--image", image, "--prompt", "caption en", "--json");
        CliRunner.Result f32 = CliRunner.run("generate", "--model", model, "--image", image, "--prompt", "caption en", "--json",
                "--kv-cache", "f32");
        CliRunner.Result bf16 = CliRunner.run("generate", "--model", model, "--image", image, "--prompt", "caption en", "--json",
                "--kv-cache", "bf16");
        assertEquals(0, bf16.exitCode(), bf16.err());
        assertEquals(plain.out(), f32.out());
        assertTrue(new ObjectMapper().readTree(bf16.out()).get("ids").size() > 0, bf16.out());
    }

    /** A checkpoint folder without its tokenizer: the error names the missing file, not just the folder. */
    @Test
    void aModelWithoutItsTokenizerIsNamedAsSuch(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws IOException {
        java.nio.file.Path tiny = Fixtures.path("paligemma-tiny");
        for (String file : new String[] {"config.json", "model.safetensors", "preprocessor_config.json"}) {
            java.nio.file.Files.copy(tiny.resolve(file), dir.resolve(file));
        }
        CliRunner.Result r = CliRunner.run("generate", "--model", dir.toString(), "--image",
                Fixtures.path("images", "shapes_text.png").toString(), "--prompt", "caption en");
        assertEquals(1, r.exitCode(), r.err());
        assertTrue(r.err().contains("no tokenizer.model or tokenizer.json"), r.err());
    }

    @Test
    void samplingIsReproducibleForASeed() {
        String[] args = {"generate", "--model", Fixtures.path("paligemma2-tiny").toString(),
                "--image", Fixtures.path("images", "photo_like.jpg").toString(), "--prompt", "caption en",
                "--max-new-tokens", "12", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--seed", "7", "--json"};
        CliRunner.Result a = CliRunner.run(args), b = CliRunner.run(args);
        assertEquals(0, a.exitCode(), a.err());
        assertEquals(a.out(), b.out());
    }

    @Test
    void configOfAnotherArchitectureIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws IOException {
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llava\", \"text_config\": {}}");
        CliRunner.Result r = CliRunner.run("generate", "--model", dir.toString(),
                "--image", Fixtures.path("images", "shapes_text.png").toString(), "--prompt", "x");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("model_type is \"llava\""), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    static Stream<org.junit.jupiter.params.provider.Arguments> badInputs() {
        return badInputArrays().map(a -> org.junit.jupiter.params.provider.Arguments.of((Object) a));
    }

    static Stream<String[]> badInputArrays() {
        String model = Fixtures.path("paligemma-tiny").toString(), image = Fixtures.path("images", "shapes_text.png").toString();
        return Stream.of(
                new String[] {"1", "model directory does not exist", "--model", "/nonexistent/model", "--image", image, "--prompt", "x"},
                new String[] {"1", "no config.json", "--model", Fixtures.path("images").toString(), "--image", image, "--prompt", "x"},
                new String[] {"1", "unsupported image format", "--model", model, "--image", Fixtures.path("paligemma-tiny", "config.json").toString(), "--prompt", "x"},
                new String[] {"1", "no such file", "--model", model, "--image", "/nonexistent.png", "--prompt", "x"},
                new String[] {"1", "exceeds the model's 8192 positions", "--model", model, "--image", image, "--prompt", "x", "--max-new-tokens", "9000"},
                new String[] {"1", "--max-new-tokens must be positive", "--model", model, "--image", image, "--prompt", "x", "--max-new-tokens", "0"},
                new String[] {"1", "--kv-cache: KV cache precision must be f32 or bf16, not 'fp8'", "--model", model, "--image", image,
                        "--prompt", "x", "--kv-cache", "fp8"},
                new String[] {"2", "Missing required option: '--prompt=TEXT'", "--model", model, "--image", image});
    }

    @ParameterizedTest(name = "{index}")
    @MethodSource("badInputs")
    void badInputsGiveOneLineErrorsAndExitCodes(String[] c) {
        String[] args = new String[c.length - 1];
        args[0] = "generate";
        System.arraycopy(c, 2, args, 1, c.length - 2);
        CliRunner.Result r = CliRunner.run(args);
        assertEquals(Integer.parseInt(c[0]), r.exitCode(), r.err());
        assertTrue(r.err().contains(c[1]), r.err());
        assertTrue(r.err().startsWith("paligemma generate: "), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
    }
}
