package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.testing.Fixtures;

class NpzFileTest {

    private static final Path VAE = Fixtures.path("segmentation", "vae-oid.random.npz");

    @Test
    void readsEveryArrayOfNumpysZip64Layout() throws IOException {
        try (NpzFile npz = NpzFile.open(VAE)) {
            assertEquals(49, npz.keys().size());
            assertEquals("encoder.0.weight", npz.keys().getFirst());
            NpyArray codebook = npz.get("_vq_vae._embedding");
            assertEquals("<f4", codebook.dtype());
            assertArrayEquals(new long[] {128, 512}, codebook.shape());
            long bytes = 0;
            for (String k : npz.keys()) bytes += npz.get(k).data().length;
            // 2,116,593 float32 values: the 49 arrays of the real vae-oid.npz layout.
            assertEquals(2_116_593L * 4, bytes);
        }
    }

    @Test
    void readsDeflatedMembersLikeSavezCompressed(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("c.npz");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            out.putNextEntry(new ZipEntry("x.npy"));
            NpyArray.ofInts(new int[] {7, 8, 9}, 3).write(out);
            out.closeEntry();
        }
        try (NpzFile npz = NpzFile.open(file)) {
            assertArrayEquals(new int[] {7, 8, 9}, npz.get("x").toIntArray());
        }
    }

    @Test
    void missingKeyNamesFileAndKey() throws IOException {
        try (NpzFile npz = NpzFile.open(VAE)) {
            IOException e = assertThrows(IOException.class, () -> npz.get("nope"));
            assertTrue(e.getMessage().contains("no array 'nope'") && e.getMessage().contains("vae-oid.random.npz"),
                    e.getMessage());
        }
    }

    @Test
    void damagedMemberIsReportedNotThrownFromDeepInside(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.npz");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            out.putNextEntry(new ZipEntry("x.npy"));
            out.write(new byte[] {1, 2, 3});
            out.closeEntry();
        }
        try (NpzFile npz = NpzFile.open(file)) {
            IOException e = assertThrows(IOException.class, () -> npz.get("x"));
            assertTrue(e.getMessage().contains("bad.npz!x.npy"), e.getMessage());
        }
    }
}
