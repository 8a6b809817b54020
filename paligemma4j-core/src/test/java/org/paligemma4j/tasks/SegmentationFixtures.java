package org.paligemma4j.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.testing.Fixtures;

/** The goldens of {@code shared/fixtures/segmentation} (see its README), read in place. */
final class SegmentationFixtures {

    /** Golden floats closer to 0 than this may legitimately flip at the {@code > 0} threshold (README §6). */
    static final double NEAR_ZERO_BAND = 1e-4;

    private static JsonNode manifest;
    private static MaskDecoder decoder;

    private SegmentationFixtures() {}

    static Path path(String... parts) {
        return Fixtures.path("segmentation", parts);
    }

    static Path vaeNpz() {
        return path("vae-oid.random.npz");
    }

    static synchronized JsonNode manifest() {
        if (manifest == null) manifest = json("manifest.json");
        return manifest;
    }

    static JsonNode json(String name) {
        try {
            return new ObjectMapper().readTree(path(name).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static synchronized MaskDecoder decoder() throws IOException {
        if (decoder == null) decoder = MaskDecoder.load(vaeNpz());
        return decoder;
    }

    static NpyArray npy(String... parts) throws IOException {
        return NpyArray.read(path(parts));
    }

    static List<String> ids(String section) {
        List<String> ids = new ArrayList<>();
        manifest().get(section).forEach(c -> ids.add(c.get("id").asText()));
        return ids;
    }

    static JsonNode caseOf(String section, String id) {
        for (JsonNode c : manifest().get(section)) {
            if (c.get("id").asText().equals(id)) return c;
        }
        throw new IllegalArgumentException("no " + section + " case " + id);
    }

    static int[] ints(JsonNode array) {
        return org.paligemma4j.testing.JsonArrays.ints(array);
    }

    static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asDouble();
        return out;
    }
}
