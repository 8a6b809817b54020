package org.paligemma4j.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.io.NpzFile;

class MaskDecoderTest {

    /** The bar (README §6 allows 1e-4; float32 vs float64 was measured at <= 4.6e-6). */
    private static final double MASK64_TOLERANCE = 1e-5;
    /** README §6: a float64 pipeline on widened float32 weights lands this close to the float64 golden. */
    private static final double MASK64_F64_TOLERANCE = 1e-9;
    /** No golden bar is given for activations; float32 vs float64 differs by <= 6.2e-6 here (values up to 7.6). */
    private static final double INTERMEDIATE_TOLERANCE = 1e-5;

    static List<String> decodeCases() {
        return SegmentationFixtures.ids("decode");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decodeCases")
    void decodedMaskMatchesFloat32Golden(String id) throws IOException {
        int[] indices = SegmentationFixtures.npy("decode", id, "indices.npy").toIntArray();
        assertArrayEquals(SegmentationFixtures.ints(SegmentationFixtures.caseOf("decode", id).get("indices")), indices);
        float[] got = SegmentationFixtures.decoder().decode(indices);
        float[] want = SegmentationFixtures.npy("decode", id, "mask64.npy").toFloatArray();
        assertEquals(64 * 64, got.length);
        assertTrue(maxAbsDiff(got, want) <= MASK64_TOLERANCE, id + ": max |diff| " + maxAbsDiff(got, want));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decodeCases")
    void float64PipelineMatchesFloat64Golden(String id) throws IOException {
        int[] indices = SegmentationFixtures.npy("decode", id, "indices.npy").toIntArray();
        double[] got = SegmentationFixtures.decoder().decodeToDouble(indices, (n, m) -> {}).data();
        double[] want = SegmentationFixtures.npy("decode", id, "mask64_f64.npy").toDoubleArray();
        double max = 0;
        for (int i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
        assertTrue(max <= MASK64_F64_TOLERANCE, id + ": max |diff| " + max);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decodeCases")
    void thresholdAgreesOutsideTheNearZeroBand(String id) throws IOException {
        int[] indices = SegmentationFixtures.npy("decode", id, "indices.npy").toIntArray();
        float[] got = SegmentationFixtures.decoder().decode(indices);
        float[] golden = SegmentationFixtures.npy("decode", id, "mask64.npy").toFloatArray();
        long[] wantBool = SegmentationFixtures.npy("decode", id, "mask64_bool.npy").toLongArray();
        for (int i = 0; i < got.length; i++) {
            if (Math.abs(golden[i]) < SegmentationFixtures.NEAR_ZERO_BAND) continue;
            assertEquals(wantBool[i] != 0, got[i] > 0.0f, id + " pixel " + i);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"d02_ramp000_015", "d06_random_a"})
    void everyStageMatchesReferenceActivations(String id) throws IOException {
        int[] indices = SegmentationFixtures.npy("decode", id, "indices.npy").toIntArray();
        Map<String, FeatureMap> stages = new HashMap<>();
        SegmentationFixtures.decoder().decodeToDouble(indices, stages::put);
        // Stage by stage, so that the first failing one names the layer with the bug.
        for (String stage : List.of("quantized", "conv0_relu", "resblock0", "resblock1", "convT0_relu", "convT1_relu",
                "convT2_relu", "convT3_relu")) {
            NpyArray want = SegmentationFixtures.npy("decode", id, "inter_" + stage + ".npy");
            FeatureMap got = stages.get(stage);
            assertArrayEquals(want.shape(), new long[] {got.height(), got.width(), got.channels()}, stage + " shape");
            double max = maxAbsDiff(got.toFloats(), want.toFloatArray());
            assertTrue(max <= INTERMEDIATE_TOLERANCE, id + " " + stage + ": max |diff| " + max);
        }
    }

    @Test
    void outOfRangeAndMiscountedIndicesAreRejected() throws IOException {
        MaskDecoder d = SegmentationFixtures.decoder();
        int[] ok = new int[16];
        int[] high = ok.clone();
        high[3] = 128;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.decode(high));
        assertTrue(e.getMessage().contains("128"), e.getMessage());
        int[] negative = ok.clone();
        negative[0] = -1;
        assertThrows(IllegalArgumentException.class, () -> d.decode(negative));
        e = assertThrows(IllegalArgumentException.class, () -> d.decode(new int[15]));
        assertTrue(e.getMessage().contains("15"), e.getMessage());
    }

    @Test
    void missingArrayIsNamed(@TempDir Path dir) throws IOException {
        Path npz = rewrite(dir, Map.of("decoder.6.bias", a -> null));
        IOException e = assertThrows(IOException.class, () -> MaskDecoder.load(npz));
        assertTrue(e.getMessage().contains("missing array 'decoder.6.bias'"), e.getMessage());
    }

    @Test
    void misShapedArrayIsNamedWithBothShapes(@TempDir Path dir) throws IOException {
        Path npz = rewrite(dir, Map.of("decoder.0.weight",
                a -> new NpyArray(a.dtype(), new long[] {128, 512}, a.data())));
        IOException e = assertThrows(IOException.class, () -> MaskDecoder.load(npz));
        assertTrue(e.getMessage().contains("'decoder.0.weight' has shape [128, 512], expected [128, 512, 1, 1]"),
                e.getMessage());
    }

    @Test
    void integerArrayIsRejected(@TempDir Path dir) throws IOException {
        Path npz = rewrite(dir, Map.of("_vq_vae._embedding", a -> new NpyArray("<i4", a.shape(), a.data())));
        IOException e = assertThrows(IOException.class, () -> MaskDecoder.load(npz));
        assertTrue(e.getMessage().contains("dtype <i4"), e.getMessage());
    }

    @Test
    void unknownExtraArraysAreIgnored(@TempDir Path dir) throws IOException {
        Path npz = rewrite(dir, Map.of("extra.thing", a -> NpyArray.ofFloats(new float[] {1, 2}, 2)));
        int[] indices = SegmentationFixtures.npy("decode", "d06_random_a", "indices.npy").toIntArray();
        assertArrayEquals(SegmentationFixtures.decoder().decode(indices), MaskDecoder.load(npz).decode(indices));
    }

    @Test
    void decoderNeedsNoEncoderArrays(@TempDir Path dir) throws IOException {
        Map<String, UnaryOperator<NpyArray>> drop = new HashMap<>();
        try (NpzFile f = NpzFile.open(SegmentationFixtures.vaeNpz())) {
            for (String k : f.keys()) if (k.startsWith("encoder.") || k.startsWith("_vq_vae._ema")) drop.put(k, a -> null);
        }
        Path npz = rewrite(dir, drop);
        int[] indices = new int[16];
        assertArrayEquals(SegmentationFixtures.decoder().decode(indices), MaskDecoder.load(npz).decode(indices));
    }

    @Test
    void missingFileAndNonZipFailWithThePath(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nope.npz");
        IOException e = assertThrows(IOException.class, () -> MaskDecoder.load(missing));
        assertTrue(e.getMessage().contains("nope.npz"), e.getMessage());
        Path text = Files.writeString(dir.resolve("text.npz"), "not a zip");
        e = assertThrows(IOException.class, () -> MaskDecoder.load(text));
        assertTrue(e.getMessage().contains("text.npz") && e.getMessage().contains("not an .npz"), e.getMessage());
    }

    /**
     * Copies the fixture npz with some arrays replaced ({@code null} drops the key). A key absent from the
     * fixture is added.
     */
    static Path rewrite(Path dir, Map<String, UnaryOperator<NpyArray>> edits) throws IOException {
        Path target = dir.resolve("edited.npz");
        Map<String, UnaryOperator<NpyArray>> pending = new HashMap<>(edits);
        try (NpzFile in = NpzFile.open(SegmentationFixtures.vaeNpz());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(target))) {
            for (String key : in.keys()) {
                NpyArray a = in.get(key);
                UnaryOperator<NpyArray> edit = pending.remove(key);
                if (edit != null) a = edit.apply(a);
                if (a != null) put(out, key, a);
            }
            for (var added : pending.entrySet()) put(out, added.getKey(), added.getValue().apply(null));
        }
        return target;
    }

    private static void put(ZipOutputStream out, String key, NpyArray a) throws IOException {
        out.putNextEntry(new ZipEntry(key + ".npy"));
        a.write(out);
        out.closeEntry();
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(b.length, a.length, "length");
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs((double) a[i] - b[i]));
        return max;
    }
}
