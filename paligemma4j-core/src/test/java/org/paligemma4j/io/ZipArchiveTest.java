package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zip64 layout of archives over 4 GiB (every real big_vision checkpoint: 5.8 GB in bfloat16, 11.7 GB in
 * float32): sizes and offsets of 0xFFFFFFFF in the central directory point to the zip64 extra field, and the
 * end record to the zip64 end-of-central-directory record. Built by hand here, small.
 */
public class ZipArchiveTest {

    /** One stored member "name" holding {@code data}, written with every zip64 field in use. */
    public static byte[] zip64(String name, byte[] data) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        CRC32 crc = new CRC32();
        crc.update(data);
        ByteBuffer b = ByteBuffer.allocate(1024 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        // local header with a zip64 extra (uncompressed, compressed)
        b.putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                .putInt((int) crc.getValue()).putInt(-1).putInt(-1).putShort((short) n.length).putShort((short) 20).put(n)
                .putShort((short) 1).putShort((short) 16).putLong(data.length).putLong(data.length).put(data);
        long cdOffset = b.position();
        // central directory entry: sizes and offset all in the zip64 extra
        b.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0).putInt((int) crc.getValue()).putInt(-1).putInt(-1)
                .putShort((short) n.length).putShort((short) 28).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                .putInt(0).putInt(-1).put(n).putShort((short) 1).putShort((short) 24).putLong(data.length).putLong(data.length)
                .putLong(0);
        long cdSize = b.position() - cdOffset;
        long eocd64 = b.position();
        b.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0).putLong(1).putLong(1)
                .putLong(cdSize).putLong(cdOffset);
        b.putInt(0x07064b50).putInt(0).putLong(eocd64).putInt(1);
        b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1).putShort((short) -1).putInt(-1)
                .putInt(-1).putShort((short) 0);
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    @Test
    void readsTheZip64LayoutOfLargeArchives(@TempDir Path dir) throws IOException {
        ByteArrayOutputStream npy = new ByteArrayOutputStream();
        NpyArray.ofFloats(new float[] {1, 2, 3}, 3).write(npy);
        Path file = Files.write(dir.resolve("big.npz"), zip64("x.npy", npy.toByteArray()));
        // java.util.zip agrees the archive is well formed
        try (var zip = new java.util.zip.ZipFile(file.toFile())) {
            assertEquals(npy.size(), zip.getEntry("x.npy").getSize());
        }
        try (Arena arena = Arena.ofConfined()) {
            ZipArchive z = ZipArchive.open(file, arena);
            ZipArchive.Member m = z.members().get("x.npy");
            assertEquals(npy.size(), m.size());
            assertArrayEquals(npy.toByteArray(), z.storedData(m).toArray(ValueLayout.JAVA_BYTE));
        }
        try (NpzFile npz = NpzFile.open(file)) {
            assertArrayEquals(new float[] {1, 2, 3}, npz.get("x").toFloatArray());
        }
    }

    @Test
    void aDamagedZip64RecordIsNamed(@TempDir Path dir) throws IOException {
        byte[] bytes = zip64("x.npy", new byte[100]);
        // point the locator past the end of the file
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(bytes.length - 22 - 20 + 8, 1L << 40);
        Path file = Files.write(dir.resolve("bad.npz"), bytes);
        try (Arena arena = Arena.ofConfined()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> ZipArchive.open(file, arena));
            assertTrue(e.getMessage().contains("bad.npz") && e.getMessage().contains("zip64"), e.getMessage());
        }
    }
}
