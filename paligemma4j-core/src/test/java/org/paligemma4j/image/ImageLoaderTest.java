package org.paligemma4j.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Header-first safety, clear errors, and the PIL rules that the cross-check files do not reach. */
class ImageLoaderTest {

    // ---- tiny PNG writer for hand-made headers ------------------------------------------

    static byte[] chunk(String type, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(12 + data.length);
        b.putInt(data.length).put(type.getBytes(StandardCharsets.US_ASCII)).put(data);
        CRC32 crc = new CRC32();
        crc.update(b.array(), 4, 4 + data.length);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    static byte[] ihdr(long width, long height, int bitDepth, int colorType) {
        return chunk("IHDR", ByteBuffer.allocate(13).putInt((int) width).putInt((int) height)
                .put((byte) bitDepth).put((byte) colorType).put((byte) 0).put((byte) 0).put((byte) 0).array());
    }

    static byte[] png(byte[]... chunks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(PngFormat.SIGNATURE);
        for (byte[] c : chunks) {
            out.writeBytes(c);
        }
        return out.toByteArray();
    }

    static byte[] deflate(byte[] raw) {
        Deflater d = new Deflater();
        d.setInput(raw);
        d.finish();
        byte[] buf = new byte[raw.length + 64];
        int n = d.deflate(buf);
        d.end();
        return Arrays.copyOf(buf, n);
    }

    static byte[] resource(String name) throws Exception {
        return PilCrossCheckTest.resource(name);
    }

    static InvalidImageException refused(byte[] data, String name) {
        return assertThrows(InvalidImageException.class, () -> ImageLoader.decode(data, name, ImageLoader.DEFAULT_MAX_PIXELS));
    }

    // ---- decompression bombs ----------------------------------------------------------------

    @Test
    void pngHeaderClaiming100kBy100kIsRefusedWithoutAllocatingPixels() throws Exception {
        byte[] bomb = png(ihdr(100_000, 100_000, 8, 2), chunk("IDAT", deflate(new byte[1000])), chunk("IEND", new byte[0]));
        ImageLoader.decode(resource("rgb8.png"), "warm-up.png", ImageLoader.DEFAULT_MAX_PIXELS); // class loading, ImageIO registry
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        InvalidImageException e = refused(bomb, "bomb.png");
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals("bomb.png: png: the header claims 100000x100000 = 10,000,000,000 pixels, above the limit of 89,478,485"
                + " (a decompression bomb or an image too large to process; raise the limit to allow it)", e.getMessage());
        System.out.println("100000x100000 PNG refused after allocating " + allocated + " bytes");
        assertTrue(allocated < 1_000_000, "allocated " + allocated + " bytes to refuse a bomb");
    }

    @Test
    void everyFormatChecksTheBudgetFromItsHeader() throws Exception {
        // JPEG: SOF0 claiming 65000x65000 (4.2e9 pixels), no scan data at all.
        byte[] jpeg = {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xc0, 0, 17, 8, (byte) 0xfd, (byte) 0xe8, (byte) 0xfd, (byte) 0xe8, 3,
                1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0, (byte) 0xff, (byte) 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0};
        assertTrue(refused(jpeg, "bomb.jpg").getMessage().contains("65000x65000 = 4,225,000,000 pixels"));
        // GIF: logical screen 65535x65535 with a 1x1 frame.
        byte[] gif = {'G', 'I', 'F', '8', '9', 'a', (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0,
                ',', 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4c, 1, 0, ';'};
        assertTrue(refused(gif, "bomb.gif").getMessage().contains("65535x65535"));
        // BMP: 100000 x -100000 (top-down), no pixel data.
        ByteBuffer bmp = ByteBuffer.allocate(54).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bmp.put((byte) 'B').put((byte) 'M').putInt(54).putInt(0).putInt(54).putInt(40).putInt(100_000).putInt(-100_000)
                .putShort((short) 1).putShort((short) 24).putInt(0);
        assertTrue(refused(bmp.array(), "bomb.bmp").getMessage().contains("100000x100000"));
        // WebP: VP8X canvas 16384x16384.
        ByteBuffer webp = ByteBuffer.allocate(30).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        webp.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(22).put("WEBPVP8X".getBytes(StandardCharsets.US_ASCII)).putInt(10)
                .put((byte) 0).put(new byte[3]).put(new byte[] {(byte) 0xff, 0x3f, 0, (byte) 0xff, 0x3f, 0});
        assertTrue(refused(webp.array(), "bomb.webp").getMessage().contains("16384x16384"));
    }

    @Test
    void pixelBudgetIsConfigurable() throws Exception {
        byte[] png = resource("rgb8.png"); // 37x23 = 851 pixels
        assertEquals(37, ImageLoader.decode(png, "ok.png", 851).width());
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageLoader.decode(png, "small.png", 850));
        assertTrue(e.getMessage().contains("37x23 = 851 pixels, above the limit of 850"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageLoader.decode(png, "x.png", 0));
    }

    @Test
    void loadFromPathKeepsTheOriginalSizeAndNamesTheFileInErrors(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("photo.jpg");
        Files.write(good, resource("baseline420.jpg"));
        RgbImage img = ImageLoader.load(good);
        assertEquals(97, img.width());
        assertEquals(61, img.height());
        Path bad = dir.resolve("notes.txt");
        Files.writeString(bad, "hello, not an image");
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageLoader.load(bad));
        assertEquals(bad + ": unsupported image format: unknown (first bytes 68 65 6c 6c 6f 2c 20 6e); supported: PNG, JPEG, GIF, BMP, WebP",
                e.getMessage());
    }

    // ---- unsupported and corrupt input --------------------------------------------------------

    @Test
    void unsupportedFormatsAreNamed() {
        assertEquals("a.tif: unsupported image format: TIFF; supported: PNG, JPEG, GIF, BMP, WebP",
                refused(new byte[] {'I', 'I', '*', 0, 8, 0, 0, 0}, "a.tif").getMessage());
        assertEquals("e.png: unsupported image format: an empty file; supported: PNG, JPEG, GIF, BMP, WebP",
                refused(new byte[0], "e.png").getMessage());
        byte[] heic = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c'};
        assertTrue(refused(heic, "p.heic").getMessage().contains("HEIF"));
    }

    @Test
    void jpegProcessesLibjpegCannotDecodeAreReportedAsUnsupported() throws Exception {
        byte[] jpeg = resource("baseline420.jpg");
        int sof = indexOf(jpeg, new byte[] {(byte) 0xff, (byte) 0xc0});
        byte[] arithmetic = jpeg.clone();
        arithmetic[sof + 1] = (byte) 0xc9;
        assertEquals("arith.jpg: jpeg: arithmetic-coded JPEG is not supported", refused(arithmetic, "arith.jpg").getMessage());
        byte[] twelveBit = jpeg.clone();
        twelveBit[sof + 4] = 12;
        assertEquals("12.jpg: jpeg: 12-bit JPEG is not supported (only 8-bit samples)", refused(twelveBit, "12.jpg").getMessage());
    }

    @Test
    void truncatedFilesOfEveryFormatAreReportedAsTruncated() throws Exception {
        for (String name : new String[] {"rgb8.png", "baseline420.jpg", "progressive.jpg", "global_palette.gif", "rgb24.bmp", "lossy.webp"}) {
            byte[] data = resource(name);
            byte[] cut = Arrays.copyOf(data, data.length * 2 / 3);
            String message = refused(cut, name).getMessage();
            assertTrue(message.startsWith(name + ": ") && message.contains("truncated"), message);
        }
    }

    @Test
    void pngWithAFlippedBitFailsItsCrcCheck() throws Exception {
        byte[] data = resource("rgb8.png");
        int idat = indexOf(data, "IDAT".getBytes(StandardCharsets.US_ASCII));
        data[idat + 20] ^= 0x10;
        String message = refused(data, "flip.png").getMessage();
        assertTrue(message.matches("flip\\.png: png: chunk IDAT at byte \\d+ fails its CRC check \\(stored \\w+, computed \\w+\\): the file is corrupt"), message);
    }

    // ---- PIL conversion rules beyond the cross-check files ----------------------------------

    @Test
    void paletteIndicesPastThePaletteReadAsBlackLikeCurrentPillow() throws Exception {
        byte[] raw = {0, 0, 1, 2, (byte) 200}; // filter 0, then indices 0 1 2 200
        byte[] data = png(ihdr(4, 1, 8, 3), chunk("PLTE", new byte[] {10, 20, 30, 40, 50, 60}),
                chunk("tRNS", new byte[] {0}), chunk("IDAT", deflate(raw)), chunk("IEND", new byte[0]));
        RgbImage img = ImageLoader.decode(data, "short-palette.png", ImageLoader.DEFAULT_MAX_PIXELS);
        assertArrayEquals(new byte[] {10, 20, 30, 40, 50, 60, 0, 0, 0, 0, 0, 0}, img.rgb());
    }

    @Test
    void sixteenBitGraySaturatesAt255AsPilModeI16Does() throws Exception {
        byte[] raw = {0, 0, 7, 0, (byte) 255, 1, 0, (byte) 0xff, (byte) 0xff}; // 7, 255, 256, 65535
        byte[] data = png(ihdr(4, 1, 16, 0), chunk("IDAT", deflate(raw)), chunk("IEND", new byte[0]));
        RgbImage img = ImageLoader.decode(data, "g16.png", ImageLoader.DEFAULT_MAX_PIXELS);
        assertArrayEquals(new byte[] {7, 7, 7, (byte) 255, (byte) 255, (byte) 255, (byte) 255, (byte) 255, (byte) 255,
                (byte) 255, (byte) 255, (byte) 255}, img.rgb());
    }

    static int indexOf(byte[] data, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= data.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (data[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
