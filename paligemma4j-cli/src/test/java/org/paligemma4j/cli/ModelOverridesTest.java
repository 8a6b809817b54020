package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.JsonArrays;

/** --model X.npz with --config and --tokenizer, and the overrides on a model directory, as a user runs them. */
class ModelOverridesTest {
    private static final int BIG_VISION_VOCAB = 2176;
    private static final String IMAGE = Fixtures.path("images", "shapes_text.png").toString();

    static String npz(String model) {
        String stem = model.endsWith("-bf16") ? model.substring(0, model.length() - 5) + ".bf16" : model;
        return Fixtures.path("bigvision_npz", stem + ".npz").toString();
    }

    static int[] ids(CliRunner.Result r) throws IOException {
        assertEquals(0, r.exitCode(), r.err());
        return JsonArrays.ints(new ObjectMapper().readTree(r.out()).get("ids"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma-tiny", "paligemma-tiny-bf16", "paligemma2-tiny", "paligemma2-tiny-bf16"})
    void generateFromTheNpzGivesTheModelDirectorysTokens(String model) throws IOException {
        Path dir = Fixtures.path(model);
        int[] fromDir = ids(CliRunner.run("generate", "--model", dir.toString(), "--image", IMAGE, "--prompt", "caption en",
                "--max-new-tokens", "24", "--json"));
        int[] fromNpz = ids(CliRunner.run("generate", "--model", npz(model), "--config", dir.resolve("config.json").toString(),
                "--tokenizer", dir.resolve("tokenizer.model").toString(), "--image", IMAGE, "--prompt", "caption en",
                "--max-new-tokens", "24", "--json"));
        // The npz has no rows for <image> and the HF padding ids: the tokens agree until the directory picks one.
        int same = 0;
        while (same < fromDir.length && fromDir[same] < BIG_VISION_VOCAB) same++;
        assertTrue(same >= 3, model + ": only " + same + " comparable tokens");
        for (int i = 0; i < same; i++) assertEquals(fromDir[i], fromNpz[i], model + " token " + i);
    }

    @Test
    void npzWithoutConfigPrintsTheInferredConfigAndRuns() throws IOException {
        Path dir = Fixtures.path("paligemma-tiny");
        CliRunner.Result r = CliRunner.run("caption", IMAGE, "--model", npz("paligemma-tiny"),
                "--tokenizer", dir.resolve("tokenizer.model").toString(), "--max-new-tokens", "8", "--json");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("inferred from the array shapes") && r.err().contains("PaliGemma 1: gemma decoder, 2 layers"),
                r.err());
        assertEquals(8, JsonArrays.ints(new ObjectMapper().readTree(r.out()).get("ids")).length);
    }

    @Test
    void npzWithoutTokenizerFailsSayingWhatToPass() {
        CliRunner.Result r = CliRunner.run("generate", "--model", npz("paligemma2-tiny"), "--image", IMAGE, "--prompt", "caption en");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("has no tokenizer") && r.err().contains("--tokenizer"), r.err());
    }

    @Test
    void dumpOfTheNpzWritesLogitsOverItsVocabulary(@TempDir Path out) throws IOException {
        Path dir = Fixtures.path("paligemma2-tiny");
        CliRunner.Result r = CliRunner.run("dump", "--model", npz("paligemma2-tiny"), "--config", dir.resolve("config.json").toString(),
                "--tokenizer", dir.resolve("tokenizer.model").toString(), "--image", IMAGE, "--prompt", "caption en",
                "--max-new-tokens", "2", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        NpyArray logits = NpyArray.read(out.resolve("logits.npy"));
        assertEquals(BIG_VISION_VOCAB, logits.shape()[2]);
    }

    @Test
    void benchRunsOnAnNpz() throws IOException {
        CliRunner.Result r = CliRunner.run("bench", "--model", npz("paligemma2-tiny-bf16"), "--prompt-tokens", "24",
                "--new-tokens", "2", "--runs", "2", "--threads", "1", "--json");
        assertEquals(0, r.exitCode(), r.err());
        var report = new ObjectMapper().readTree(r.out());
        assertTrue(report.get("decode_tok_s").asDouble() > 0, r.out());
        // The machine's limits after each run (Linux), each run judged against its own, their spread reported.
        assertEquals("after_each_run", report.get("machine_limits").asText(), r.out());
        for (String limit : new String[] {"machine_read_gb_s", "machine_fma_gflops", "decode_compute_gb_s"}) {
            var spread = report.get(limit + "_spread");
            assertTrue(spread.get("min").asDouble() > 0 && spread.get("min").asDouble() <= spread.get("max").asDouble(), r.out());
            assertEquals(report.get(limit).asDouble(), spread.get("median").asDouble(), 0.06, r.out()); // printed to 1–2 decimals
        }
        for (String fraction : new String[] {"decode_bw_fraction", "decode_roofline_fraction", "vision_peak_fraction", "prefill_peak_fraction"}) {
            assertTrue(report.get(fraction).asDouble() > 0, fraction + " in " + r.out());
        }
    }

    @Test
    void configOverrideSuppliesAMissingConfigAndReplacesThePresentOne(@TempDir Path tmp) throws IOException {
        Path source = Fixtures.path("paligemma2-tiny");
        Path noConfig = Files.createDirectory(tmp.resolve("no-config"));
        try (Stream<Path> files = Files.list(source)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().equals("config.json")) Files.createSymbolicLink(noConfig.resolve(f.getFileName()), f);
            }
        }
        String[] run = {"generate", "--image", IMAGE, "--prompt", "caption en", "--max-new-tokens", "12", "--json"};
        int[] reference = ids(CliRunner.run(concat(run, "--model", source.toString())));
        CliRunner.Result without = CliRunner.run(concat(run, "--model", noConfig.toString()));
        assertEquals(1, without.exitCode());
        assertTrue(without.err().contains("no config.json"), without.err());
        int[] supplied = ids(CliRunner.run(concat(run, "--model", noConfig.toString(), "--config", source.resolve("config.json").toString())));
        assertEquals(java.util.Arrays.toString(reference), java.util.Arrays.toString(supplied));

        // An override that changes the model is used instead of the directory's own config.json.
        ObjectNode config = (ObjectNode) new ObjectMapper().readTree(source.resolve("config.json").toFile());
        ((ObjectNode) config.get("text_config")).put("intermediate_size", 96);
        Path wrong = tmp.resolve("wrong.json");
        new ObjectMapper().writeValue(wrong.toFile(), config);
        CliRunner.Result overridden = CliRunner.run(concat(run, "--model", source.toString(), "--config", wrong.toString()));
        assertEquals(1, overridden.exitCode());
        assertTrue(overridden.err().contains("weights do not match " + wrong) && overridden.err().contains("mis-shaped"),
                overridden.err());
    }

    @Test
    void tokenizerOverrideIsUsed(@TempDir Path tmp) throws IOException {
        Path source = Fixtures.path("paligemma-tiny");
        CliRunner.Result r = CliRunner.run("generate", "--model", source.toString(), "--tokenizer", tmp.resolve("none.model").toString(),
                "--image", IMAGE, "--prompt", "caption en");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("none.model"), r.err());
        // A tokenizer file of any name, outside the model directory, is read instead of the directory's.
        Path copy = Files.copy(source.resolve("tokenizer.model"), tmp.resolve("my-tokenizer.bin"));
        JsonNode out = new ObjectMapper().readTree(CliRunner.run("generate", "--model", source.toString(), "--tokenizer",
                copy.toString(), "--image", IMAGE, "--prompt", "caption en", "--max-new-tokens", "4", "--json").out());
        assertEquals(4, out.get("ids").size());
    }

    @Test
    void quantizedCopyOfAnNpzIsACompleteModelDirectory(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.path("paligemma2-tiny"), out = tmp.resolve("q8");
        CliRunner.Result q = CliRunner.run("quantize", "--model", npz("paligemma2-tiny"), "--tokenizer",
                dir.resolve("tokenizer.model").toString(), "--quant", "q8", "--out", out.toString());
        assertEquals(0, q.exitCode(), q.err());
        assertTrue(Files.isRegularFile(out.resolve("config.json")) && Files.isRegularFile(out.resolve("tokenizer.model")));
        int[] ids = ids(CliRunner.run("generate", "--model", out.toString(), "--image", IMAGE, "--prompt", "caption en",
                "--max-new-tokens", "6", "--json"));
        assertEquals(6, ids.length);
        CliRunner.Result noTokenizer = CliRunner.run("quantize", "--model", npz("paligemma2-tiny"), "--quant", "q8", "--out",
                tmp.resolve("x").toString());
        assertEquals(1, noTokenizer.exitCode());
        assertTrue(noTokenizer.err().contains("--tokenizer"), noTokenizer.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
