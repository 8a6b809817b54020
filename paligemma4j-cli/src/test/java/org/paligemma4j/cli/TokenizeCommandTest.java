package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.paligemma4j.testing.Fixtures;

/** Runs {@code paligemma tokenize} in-process (Main.run) and checks its output and exit codes. */
class TokenizeCommandTest {
    private static String model(String name) {
        return Fixtures.path("tokenizer", name).toString();
    }

    @Test
    void jsonModeTokenizesEachStringOfTheStdinArrayOnOneLine() {
        // ids from fixtures/tokenizer/real/paligemma_tokenizer.golden.json
        CliRunner.Result r = CliRunner.runWithInput("[\"Hello world\", \"\", \"<loc0000>\", \"  Hello  world  \", \"\\t\", \"<bos>\"]",
                "tokenize", "--tokenizer", model("real/paligemma_tokenizer.reconstructed.model"), "--json");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("[[4521,2134],[],[256000],[139,4521,139,9097,139],[226],[235322,14084,235313]]\n", r.out());
    }

    @Test
    void textModePrintsOneArray() {
        CliRunner.Result r = CliRunner.runWithInput("", "tokenize", "--tokenizer", model("paligemma_fixture_bpe.model"), "--text", "Hello world");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("[2700,510,1030,509,483,1474]\n", r.out());
        assertEquals("[]\n", CliRunner.run("tokenize", "--tokenizer", model("paligemma_fixture_bpe.model"), "--text", "").out());
    }

    @Test
    void acceptsTokenizerJsonGzAndModelDirectories() {
        String gz = Fixtures.artifacts().resolve("gemma-tokenizer/gemma2_tokenizer.json.gz").toString();
        CliRunner.Result json = CliRunner.runWithInput("[\"<bos>\", \"Hello world\"]", "tokenize", "--tokenizer", gz, "--json");
        assertEquals(0, json.exitCode(), json.err());
        assertEquals("[[2],[4521,2134]]\n", json.out(), "tokenizer.json matches control tokens written in text");
        CliRunner.Result dir = CliRunner.run("tokenize", "--tokenizer", Fixtures.path("paligemma-tiny").toString(), "--text", "caption en\n");
        assertEquals("[540,306,8]\n", dir.out());
    }

    @Test
    void problemsGiveExitCodeOneAndAOneLineMessage() {
        CliRunner.Result missing = CliRunner.run("tokenize", "--tokenizer", "/nonexistent/tokenizer.model", "--text", "x");
        assertEquals(1, missing.exitCode());
        assertEquals("paligemma tokenize: /nonexistent/tokenizer.model: no such file or directory\n", missing.err());
        CliRunner.Result notArray = CliRunner.runWithInput("{\"a\": 1}", "tokenize", "--tokenizer", model("paligemma_fixture_bpe.model"), "--json");
        assertEquals(1, notArray.exitCode());
        assertEquals("paligemma tokenize: stdin must hold a JSON array of strings, got object\n", notArray.err());
        CliRunner.Result notString = CliRunner.runWithInput("[\"a\", 3]", "tokenize", "--tokenizer", model("paligemma_fixture_bpe.model"), "--json");
        assertEquals("paligemma tokenize: stdin must hold a JSON array of strings, but element 1 is number\n", notString.err());
        CliRunner.Result badJson = CliRunner.runWithInput("[\"a\"", "tokenize", "--tokenizer", model("paligemma_fixture_bpe.model"), "--json");
        assertEquals(1, badJson.exitCode());
        assertTrue(badJson.err().startsWith("paligemma tokenize: stdin is not valid JSON"), badJson.err());
        CliRunner.Result corrupt = CliRunner.run("tokenize", "--tokenizer", Fixtures.path("paligemma-tiny", "config.json").toString(), "--text", "x");
        assertEquals(1, corrupt.exitCode());
        assertTrue(corrupt.err().endsWith("config.json: no \"model\" section\n"), corrupt.err());
    }

    @Test
    void usageErrorsGiveExitCodeTwo() {
        assertEquals(2, CliRunner.run("tokenize", "--tokenizer", model("paligemma_fixture_bpe.model")).exitCode());
        assertEquals(2, CliRunner.run("tokenize", "--tokenizer", model("paligemma_fixture_bpe.model"), "--json", "--text", "x").exitCode());
        assertEquals(2, CliRunner.run("tokenize", "--text", "x").exitCode());
    }
}
