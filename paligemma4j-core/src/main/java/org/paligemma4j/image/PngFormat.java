package org.paligemma4j.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.IntUnaryOperator;
import java.util.zip.CRC32;

/**
 * PNG: the header is read from IHDR, the chunk structure (lengths, CRCs, IEND) is checked before
 * decoding, the pixels are decoded by the JDK and turned into RGB with PIL's rules: gray and palette
 * expand, alpha is dropped, 16-bit colour keeps its high byte, 16-bit gray (PIL mode {@code I;16})
 * saturates at 255.
 */
final class PngFormat {

    static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private static final int GRAY = 0, RGB = 2, PALETTE = 3, GRAY_ALPHA = 4, RGBA = 6;

    private PngFormat() {}

    record Header(int width, int height, int bitDepth, int colorType) {}

    static Header readHeader(ByteReader file) throws InvalidImageException {
        file.require(8, 25, "the IHDR chunk");
        long length = file.u32be(8, "the IHDR chunk");
        if (length != 13 || !file.startsWith(12, "IHDR".getBytes(StandardCharsets.US_ASCII))) {
            throw file.error("the first chunk must be a 13-byte IHDR (byte 8)");
        }
        long width = file.u32be(16, "IHDR width");
        long height = file.u32be(20, "IHDR height");
        int bitDepth = file.u8(24, "IHDR bit depth");
        int colorType = file.u8(25, "IHDR colour type");
        if (width == 0 || height == 0 || width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
            throw file.error("invalid size " + width + "x" + height + " in IHDR (byte 16)");
        }
        boolean valid = switch (colorType) {
            case GRAY -> bitDepth == 1 || bitDepth == 2 || bitDepth == 4 || bitDepth == 8 || bitDepth == 16;
            case PALETTE -> bitDepth == 1 || bitDepth == 2 || bitDepth == 4 || bitDepth == 8;
            case RGB, GRAY_ALPHA, RGBA -> bitDepth == 8 || bitDepth == 16;
            default -> false;
        };
        if (!valid) {
            throw file.error("invalid colour type " + colorType + " with bit depth " + bitDepth + " in IHDR (byte 24)");
        }
        if (file.u8(26, "IHDR compression") != 0 || file.u8(27, "IHDR filter") != 0 || file.u8(28, "IHDR interlace") > 1) {
            throw file.error("unknown compression, filter or interlace method in IHDR (bytes 26-28)");
        }
        return new Header((int) width, (int) height, bitDepth, colorType);
    }

    static RgbImage decode(ByteReader file, Header header) throws IOException {
        byte[] palette = checkChunks(file, header);
        BufferedImage image = ImageIoDecoding.read(file.data, "png", file).result();
        if (image.getWidth() != header.width() || image.getHeight() != header.height()) {
            throw file.error("decoder returned " + image.getWidth() + "x" + image.getHeight()
                    + " for a " + header.width() + "x" + header.height() + " header");
        }
        var raster = image.getRaster();
        int depth = header.bitDepth();
        return switch (header.colorType()) {
            case PALETTE -> RasterToRgb.fromPalette(raster, palette);
            // PIL opens 16-bit gray as I;16 and its conversion to RGB clips at 255.
            case GRAY -> RasterToRgb.fromBands(raster, new int[] {0, 0, 0},
                    depth == 16 ? v -> Math.min(v, 255) : RasterToRgb.scaleBits(depth));
            case GRAY_ALPHA -> RasterToRgb.fromBands(raster, new int[] {0, 0, 0}, highByte(depth));
            default -> RasterToRgb.fromBands(raster, new int[] {0, 1, 2}, highByte(depth));
        };
    }

    /** PIL unpacks 16-bit colour samples by keeping the most significant byte. */
    private static IntUnaryOperator highByte(int depth) {
        return depth == 16 ? v -> v >>> 8 : IntUnaryOperator.identity();
    }

    /**
     * Walks every chunk: each must fit in the file and match its CRC, IDAT must be present and the
     * file must reach IEND. Returns the PLTE entries as RGB bytes (empty if none).
     */
    private static byte[] checkChunks(ByteReader file, Header header) throws InvalidImageException {
        byte[] palette = new byte[0];
        boolean sawIdat = false;
        CRC32 crc = new CRC32();
        int pos = SIGNATURE.length;
        while (true) {
            if (pos + 8 > file.length()) {
                throw file.error("truncated: the file ends at byte " + file.length() + " before the IEND chunk");
            }
            long length = file.u32be(pos, "chunk length");
            String type = new String(file.data, pos + 4, 4, StandardCharsets.ISO_8859_1);
            if (!type.chars().allMatch(ch -> (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'))) {
                throw file.error("invalid chunk type at byte " + (pos + 4) + " (corrupt file)");
            }
            if (length > Integer.MAX_VALUE || pos + 12 + length > file.length()) {
                throw file.error("truncated: chunk " + type + " at byte " + pos + " declares " + length
                        + " data bytes but the file ends at byte " + file.length());
            }
            int len = (int) length;
            crc.reset();
            crc.update(file.data, pos + 4, 4 + len);
            long stored = file.u32be(pos + 8 + len, "chunk CRC");
            if (crc.getValue() != stored) {
                throw file.error(String.format("chunk %s at byte %d fails its CRC check (stored %08x, computed %08x): the file is corrupt",
                        type, pos, stored, crc.getValue()));
            }
            switch (type) {
                case "PLTE" -> {
                    if (len % 3 != 0 || len == 0 || len > 768) {
                        throw file.error("PLTE chunk at byte " + pos + " has " + len + " bytes; expected 3 to 768, a multiple of 3");
                    }
                    palette = java.util.Arrays.copyOfRange(file.data, pos + 8, pos + 8 + len);
                }
                case "IDAT" -> sawIdat = true;
                case "IEND" -> {
                    if (!sawIdat) {
                        throw file.error("no IDAT chunk: the file holds no pixel data");
                    }
                    if (header.colorType() == PALETTE && palette.length == 0) {
                        throw file.error("palette image without a PLTE chunk");
                    }
                    return palette;
                }
                default -> { }
            }
            pos += 12 + len;
        }
    }
}
