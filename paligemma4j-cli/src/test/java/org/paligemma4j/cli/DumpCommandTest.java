package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.Golden;

/** The dump contract: every file the reference wrote, with the same name, shape and values (within the stated tolerances). */
class DumpCommandTest {
    @TempDir
    Path out;

    @ParameterizedTest(name = "{0}/{1}")
    @CsvSource({"paligemma-tiny, answer_jpg_suffix", "paligemma2-tiny-bf16, answer_jpg_suffix", "paligemma2-tiny, detect_gray_rgbconvert"})
    void dumpMatchesTheGoldenFiles(String model, String caseName) throws IOException {
        Golden g = Golden.cases(model).stream().filter(c -> c.name().equals(caseName)).findFirst().orElseThrow();
        var e = g.entry();
        String[] base = {"dump", "--model", g.modelDir().toString(), "--image", Fixtures.path(e.get("image").asText()).toString(),
                "--prompt", e.get("prompt").asText(), "--max-new-tokens", e.get("generation").get("max_new_tokens").asText(),
                "--out", out.toString()};
        String[] args = e.get("suffix").isNull() ? base : append(base, "--suffix", e.get("suffix").asText());
        CliRunner.Result r = CliRunner.run(args);
        assertEquals(0, r.exitCode(), r.err());

        exact(g, "image_resized_uint8");
        close(g, "pixel_values", 1e-6);
        exact(g, "input_ids");
        close(g, "vision_last_hidden_state", 1e-5);
        close(g, "image_features_projected", 1e-5);
        close(g, "image_features_scaled", 1e-5);
        close(g, "decoder_hidden_states", 2e-4);
        close(g, "logits", 2e-4);
        exact(g, "generated_ids");
        close(g, "generate_step_logits", 2e-4);
        if (!e.get("suffix").isNull()) {
            exact(g, "generate_input_ids");
            exact(g, "token_type_ids");
            exact(g, "labels");
            NpyArray loss = NpyArray.read(out.resolve("loss.npy"));
            assertEquals(0, loss.shape().length, "loss is a scalar");
            assertEquals(e.get("loss").asDouble(), loss.toDoubleArray()[0], 1e-4, "loss");
        }
    }

    private void exact(Golden g, String name) throws IOException {
        NpyArray ours = NpyArray.read(out.resolve(name + ".npy")), ref = g.npy(name);
        assertArrayEquals(ref.shape(), ours.shape(), name + " shape");
        assertArrayEquals(ref.toLongArray(), ours.toLongArray(), name);
    }

    private void close(Golden g, String name, double tol) throws IOException {
        NpyArray ours = NpyArray.read(out.resolve(name + ".npy")), ref = g.npy(name);
        assertArrayEquals(ref.shape(), ours.shape(), name + " shape");
        Golden.assertClose(ref.toFloatArray(), ours.toFloatArray(), tol, name);
    }

    private static String[] append(String[] a, String... more) {
        String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }

    /** --logits last writes only the last position's logits: what a long (896 px) prompt needs. */
    @org.junit.jupiter.api.Test
    void logitsLastWritesTheLastPositionOnly(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Golden g = Golden.cases("paligemma2-tiny").getFirst();
        CliRunner.Result r = CliRunner.run("dump", "--model", g.modelDir().toString(),
                "--image", Fixtures.path(g.entry().get("image").asText()).toString(), "--prompt", g.entry().get("prompt").asText(),
                "--max-new-tokens", "2", "--logits", "last", "--out", dir.toString());
        org.junit.jupiter.api.Assertions.assertEquals(0, r.exitCode(), r.err());
        org.paligemma4j.io.NpyArray last = org.paligemma4j.io.NpyArray.read(dir.resolve("logits.npy"));
        float[] all = g.floats("logits");
        int vocab = (int) last.shape()[2];
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {1, 1, vocab}, last.shape());
        Golden.assertClose(java.util.Arrays.copyOfRange(all, all.length - vocab, all.length), last.toFloatArray(), 2e-4, "last logits");
        CliRunner.Result bad = CliRunner.run("dump", "--model", g.modelDir().toString(), "--image",
                Fixtures.path(g.entry().get("image").asText()).toString(), "--prompt", "x", "--logits", "some", "--out", dir.toString());
        org.junit.jupiter.api.Assertions.assertEquals(2, bad.exitCode(), bad.err());
        org.junit.jupiter.api.Assertions.assertTrue(bad.err().contains("--logits must be last or all"), bad.err());
    }
}
