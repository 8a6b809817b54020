package org.paligemma4j.testing;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.paligemma4j.io.NpyArray;

/** One golden case of {@code golden/<model>/<case>/} with its manifest entry. */
public record Golden(String model, String name, Path dir, JsonNode manifest, JsonNode entry) {

    public static List<Golden> cases(String model) {
        try {
            JsonNode manifest = new ObjectMapper().readTree(Fixtures.path("golden", model, "manifest.json").toFile());
            List<Golden> out = new ArrayList<>();
            for (JsonNode c : manifest.get("cases")) {
                String name = c.get("name").asText();
                out.add(new Golden(model, name, Fixtures.path("golden", model, name), manifest, c));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** All cases of all four golden models. */
    public static List<Golden> all() {
        List<Golden> out = new ArrayList<>();
        for (String m : Fixtures.MODELS) out.addAll(cases(m));
        return out;
    }

    public boolean has(String file) {
        return Files.isRegularFile(dir.resolve(file + ".npy"));
    }

    public NpyArray npy(String file) {
        try {
            return NpyArray.read(dir.resolve(file + ".npy"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public float[] floats(String file) {
        return npy(file).toFloatArray();
    }

    public int[] ints(String file) {
        return npy(file).toIntArray();
    }

    /**
     * The greedy ids to expect with default (current transformers) semantics: {@code generated_ids_hf_latest}
     * where the case has it, else {@code generated_ids}.
     */
    public int[] expectedGreedyIds() {
        return entry.has("generated_ids_hf_latest") ? JsonArrays.ints(entry.get("generated_ids_hf_latest")) : ints("generated_ids");
    }

    /**
     * How many leading greedy steps are decided by more than rounding: up to the first step whose top-2
     * margin is below 1e-3 (those are compared teacher-forced instead). The margins describe
     * {@code generated_ids}, so a case with {@code generated_ids_hf_latest} counts in full.
     */
    public int comparableGreedySteps() {
        int[] expected = expectedGreedyIds();
        if (entry.has("generated_ids_hf_latest")) return expected.length;
        JsonNode margins = entry.get("generation").get("top2_margin_per_step");
        for (int s = 0; s < expected.length; s++) {
            if (margins.get(s).asDouble() < 1e-3) return s;
        }
        return expected.length;
    }

    public Path modelDir() {
        return Fixtures.path(manifest.get("model_dir").asText());
    }

    @Override
    public String toString() {
        return model + "/" + name;
    }

    /** Fails with the largest difference and where it is when any |expected − actual| exceeds tol. */
    public static void assertClose(float[] expected, float[] actual, double tol, String what) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= worst)) {
                worst = d;
                at = i;
            }
        }
        if (!(worst <= tol)) {
            fail(String.format("%s: max |diff| %.3g > %.1g at flat index %d (expected %s, got %s)",
                    what, worst, tol, at, expected[at], actual[at]));
        }
    }

    public static double maxAbsDiff(float[] a, float[] b, int from, int to) {
        double worst = 0;
        for (int i = from; i < to; i++) worst = Math.max(worst, Math.abs((double) a[i] - b[i]));
        return worst;
    }
}
