package org.paligemma4j.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.io.IOException;

/**
 * WebP (lossy VP8, lossless VP8L, extended VP8X with alpha), decoded by the TwelveMonkeys ImageIO
 * plugin; alpha is dropped. The canvas size comes from the first chunk. Lossless images decode
 * exactly as PIL does. Lossy ones do not: that decoder does not reproduce libwebp (the one under
 * PIL) exactly; on a noisy test picture nearly every pixel differs, by 4.7 levels on average and
 * at most 31 (see PilCrossCheckTest). Prefer PNG or JPEG where parity matters.
 */
final class WebpFormat {

    private WebpFormat() {}

    record Header(int width, int height, String kind) {}

    static Header readHeader(ByteReader file) throws InvalidImageException {
        long riffSize = file.u32le(4, "RIFF size");
        if (riffSize + 8 > file.length()) {
            throw file.error("truncated: the RIFF header declares " + (riffSize + 8)
                    + " bytes but the file has " + file.length());
        }
        String kind = new String(file.data, 12, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
        file.require(16, 4, "the first chunk size");
        int body = 20;
        return switch (kind) {
            case "VP8 " -> {
                if (file.u8(body + 3, "VP8 start code") != 0x9d || file.u8(body + 4, "VP8 start code") != 0x01
                        || file.u8(body + 5, "VP8 start code") != 0x2a) {
                    throw file.error("missing VP8 start code at byte " + (body + 3));
                }
                yield checked(file, file.u16le(body + 6, "VP8 width") & 0x3fff, file.u16le(body + 8, "VP8 height") & 0x3fff, kind);
            }
            case "VP8L" -> {
                if (file.u8(body, "VP8L signature") != 0x2f) {
                    throw file.error("missing VP8L signature at byte " + body);
                }
                long bits = file.u32le(body + 1, "VP8L size");
                yield checked(file, (int) (bits & 0x3fff) + 1, (int) ((bits >> 14) & 0x3fff) + 1, kind);
            }
            case "VP8X" -> {
                int flags = file.u8(body, "VP8X flags");
                if ((flags & 0x02) != 0) {
                    throw file.error("animated WebP is not supported");
                }
                yield checked(file, file.u24le(body + 4, "VP8X width") + 1, file.u24le(body + 7, "VP8X height") + 1, kind);
            }
            default -> throw file.error("unknown WebP chunk '" + kind.strip() + "' at byte 12");
        };
    }

    private static Header checked(ByteReader file, int width, int height, String kind) throws InvalidImageException {
        if (width <= 0 || height <= 0) {
            throw file.error("invalid size " + width + "x" + height);
        }
        return new Header(width, height, kind.strip());
    }

    static RgbImage decode(ByteReader file, Header header) throws IOException {
        BufferedImage image = ImageIoDecoding.read(file.data, "webp", file).result();
        if (image.getWidth() != header.width() || image.getHeight() != header.height()) {
            throw file.error("decoder returned " + image.getWidth() + "x" + image.getHeight()
                    + " for a " + header.width() + "x" + header.height() + " canvas");
        }
        ColorModel cm = image.getColorModel();
        if (cm instanceof IndexColorModel || cm.getNumColorComponents() != 3) {
            throw file.error("unexpected decoded layout " + cm);
        }
        // Interleaved and packed rasters alike list their bands red, green, blue (, alpha).
        return RasterToRgb.fromBands(image.getRaster(), new int[] {0, 1, 2}, RasterToRgb.scaleBits(8));
    }
}
