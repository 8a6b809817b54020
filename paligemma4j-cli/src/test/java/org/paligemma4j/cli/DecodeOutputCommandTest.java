package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.testing.Fixtures;

class DecodeOutputCommandTest {

    private static final Path SEG = Fixtures.path("segmentation");
    private static final String D06_SEGS = "<seg009><seg124><seg084><seg028><seg104><seg103><seg041><seg087>"
            + "<seg012><seg060><seg070><seg003><seg097><seg114><seg090><seg073>";

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void jsonListsEveryObjectWithTheContractFields() throws IOException {
        CliRunner.Result r = CliRunner.run("decode-output", "--text",
                "<loc0100><loc0200><loc0700><loc0900> cat ; <loc0700><loc0200><loc0100><loc0900>",
                "--width", "640", "--height", "480", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals(List.of("objects"), fieldNames(root));
        JsonNode objects = root.get("objects");
        assertEquals(2, objects.size());
        for (JsonNode o : objects) {
            assertEquals(List.of("label", "loc", "seg", "box", "valid"), fieldNames(o));
            assertEquals(List.of("x_min", "y_min", "x_max", "y_max"), fieldNames(o.get("box")));
        }
        JsonNode cat = objects.get(0);
        assertEquals("cat", cat.get("label").asText());
        assertEquals("[100,200,700,900]", cat.get("loc").toString());
        assertTrue(cat.get("seg").isNull());
        assertEquals("{\"x_min\":125,\"y_min\":46,\"x_max\":563,\"y_max\":328}", cat.get("box").toString());
        assertTrue(cat.get("valid").asBoolean());
        JsonNode inverted = objects.get(1);
        assertTrue(inverted.get("label").isNull());
        assertEquals("{\"x_min\":125,\"y_min\":328,\"x_max\":563,\"y_max\":46}", inverted.get("box").toString());
        assertTrue(!inverted.get("valid").asBoolean());
    }

    @Test
    void jsonUsesBigVisionTruncationAndSkipsTextItems() throws IOException {
        CliRunner.Result r = CliRunner.run("decode-output", "--text", "Here: <loc0279><loc0279><loc0558><loc0558> cat", "--width", "110",
                "--height", "55", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out()).get("objects");
        assertEquals(1, o.size());
        assertEquals("{\"x_min\":29,\"y_min\":14,\"x_max\":59,\"y_max\":29}", o.get(0).get("box").toString());
    }

    @Test
    void writesDecodedAndPastedMasksForValidSegmentObjectsOnly(@TempDir Path dir) throws IOException {
        String text = "<loc0100><loc0200><loc0700><loc0900>" + D06_SEGS + " cat ; "
                + "<loc0010><loc0020><loc0030><loc0040> box only ; "
                + "<loc0700><loc0200><loc0100><loc0900>" + D06_SEGS + " inverted";
        Path out = dir.resolve("masks");
        CliRunner.Result r = CliRunner.run("decode-output", "--text", text, "--width", "640", "--height", "480",
                "--vae", SEG.resolve("vae-oid.random.npz").toString(), "--out", out.toString(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode objects = new ObjectMapper().readTree(r.out()).get("objects");
        assertEquals(3, objects.size());
        assertEquals(16, objects.get(0).get("seg").size());
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of("mask64_0.npy", "mask_0.npy"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }

        NpyArray mask64 = NpyArray.read(out.resolve("mask64_0.npy"));
        assertEquals("<f4", mask64.dtype());
        assertArrayEquals(new long[] {64, 64}, mask64.shape());
        float[] got64 = mask64.toFloatArray();
        float[] want64 = NpyArray.read(SEG.resolve("decode/d06_random_a/mask64.npy")).toFloatArray();
        for (int i = 0; i < got64.length; i++) assertEquals(want64[i], got64[i], 1e-5, "mask64 pixel " + i);

        // The same object, image and seg tokens as paste golden p00_upscale.
        NpyArray mask = NpyArray.read(out.resolve("mask_0.npy"));
        assertEquals("|b1", mask.dtype());
        assertArrayEquals(new long[] {480, 640}, mask.shape());
        long[] got = mask.toLongArray();
        long[] want = NpyArray.read(SEG.resolve("paste/p00_upscale/mask_full.npy")).toLongArray();
        float[] resized = NpyArray.read(SEG.resolve("paste/p00_upscale/resized.npy")).toFloatArray();
        int boxW = 563 - 125;
        for (int i = 0; i < got.length; i++) {
            if (got[i] == want[i]) continue;
            int y = i / 640 - 46;
            int x = i % 640 - 125;
            assertTrue(Math.abs(resized[y * boxW + x]) < 1e-4, "mask pixel " + i + " differs outside the near-zero band");
        }
    }

    @Test
    void readableListingNamesLabelsBoxesAndValidity() {
        CliRunner.Result r = CliRunner.run("decode-output", "--text", "<loc0100><loc0200><loc0700><loc0900> cat ; <loc0000><loc0000><loc1024><loc0010> x",
                "--width", "640", "--height", "480");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("2 objects on a 640x480 image"), r.out());
        assertTrue(r.out().contains("'cat'") && r.out().contains("x 125..563  y 46..328 px"), r.out());
        assertTrue(r.out().contains("INVALID (location token out of 0..1023)"), r.out());
    }

    @Test
    void nonPositiveSizeIsAOneLineUsageError() {
        for (String[] size : new String[][] {{"0", "480"}, {"640", "-3"}}) {
            CliRunner.Result r = CliRunner.run("decode-output", "--text", "x", "--width", size[0], "--height", size[1], "--json");
            assertEquals(2, r.exitCode());
            assertEquals("", r.out());
            assertOneLine(r.err(), "must be positive");
        }
    }

    @Test
    void missingVaeFileIsAOneLineFailure(@TempDir Path dir) {
        CliRunner.Result r = CliRunner.run("decode-output", "--text", "x", "--width", "1", "--height", "1",
                "--vae", dir.resolve("absent.npz").toString(), "--out", dir.toString(), "--json");
        assertEquals(1, r.exitCode());
        assertEquals("", r.out());
        assertOneLine(r.err(), "absent.npz");
    }

    @Test
    void npzWithoutTheDecoderArraysIsAOneLineFailure(@TempDir Path dir) throws IOException {
        Path notZip = Files.writeString(dir.resolve("junk.npz"), "junk");
        CliRunner.Result r = CliRunner.run("decode-output", "--text", "x", "--width", "1", "--height", "1", "--vae", notZip.toString(), "--json");
        assertEquals(1, r.exitCode());
        assertOneLine(r.err(), "not an .npz");

        // A well-formed npz that is not the VQ-VAE.
        Path otherNpz = dir.resolve("other.npz");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(otherNpz))) {
            zip.putNextEntry(new ZipEntry("a.npy"));
            NpyArray.ofFloats(new float[] {1}, 1).write(zip);
            zip.closeEntry();
        }
        r = CliRunner.run("decode-output", "--text", "x", "--width", "1", "--height", "1", "--vae", otherNpz.toString(), "--json");
        assertEquals(1, r.exitCode());
        assertOneLine(r.err(), "missing array");
    }

    @Test
    void outWithoutVaeIsAUsageError(@TempDir Path dir) {
        CliRunner.Result r = CliRunner.run("decode-output", "--text", "x", "--width", "1", "--height", "1", "--out", dir.toString());
        assertEquals(2, r.exitCode());
        assertOneLine(r.err(), "--out needs --vae");
    }

    @Test
    void missingRequiredOptionFailsWithNonZeroExit() {
        CliRunner.Result r = CliRunner.run("decode-output", "--width", "1", "--height", "1");
        assertNotEquals(0, r.exitCode());
        assertTrue(r.err().lines().findFirst().orElse("").contains("--text"), r.err());
    }

    @Test
    void helpDescribesTheContract() {
        CliRunner.Result r = CliRunner.run("decode-output", "--help");
        assertEquals(0, r.exitCode());
        for (String s : List.of("--text", "--width", "--height", "--vae", "--out", "--json", "mask64_<i>.npy", "mask_<i>.npy")) {
            assertTrue(r.out().contains(s), s + " missing from help:\n" + r.out());
        }
    }

    private static void assertOneLine(String err, String expected) {
        List<String> lines = err.lines().toList();
        assertEquals(1, lines.size(), "stderr: " + err);
        assertTrue(lines.getFirst().startsWith("paligemma decode-output: "), err);
        assertTrue(lines.getFirst().contains(expected), err);
    }
}
