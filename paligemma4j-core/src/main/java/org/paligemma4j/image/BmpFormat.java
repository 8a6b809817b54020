package org.paligemma4j.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.util.function.IntUnaryOperator;

/**
 * BMP (Windows and OS/2 headers; 1/4/8-bit palette, 16-bit 5-5-5 or 5-6-5, 24 and 32-bit; RLE4/8).
 * Palette images are looked up, packed 5/6-bit fields widen by {@code v * 255 / max} as PIL unpacks
 * them, alpha is dropped. Uncompressed pixel data must fit in the file.
 */
final class BmpFormat {

    private BmpFormat() {}

    record Header(int width, int height, int bitsPerPixel, int compression) {}

    static Header readHeader(ByteReader file) throws InvalidImageException {
        long dataOffset = file.u32le(10, "pixel data offset");
        long dibSize = file.u32le(14, "DIB header size");
        long width, height;
        int bpp, compression = 0;
        if (dibSize == 12) {
            width = file.u16le(18, "width");
            height = file.u16le(20, "height");
            bpp = file.u16le(24, "bits per pixel");
        } else if (dibSize >= 40 && dibSize <= 124) {
            width = (int) file.u32le(18, "width");
            height = (int) file.u32le(22, "height");
            bpp = file.u16le(28, "bits per pixel");
            compression = (int) file.u32le(30, "compression");
        } else {
            throw file.error("unsupported DIB header size " + dibSize + " at byte 14");
        }
        height = Math.abs(height); // negative height: rows stored top-down
        if (width <= 0 || height <= 0) {
            throw file.error("invalid size " + width + "x" + height);
        }
        if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) {
            throw file.error("unsupported bit depth " + bpp);
        }
        boolean raw = compression == 0 || compression == 3 || compression == 6;
        boolean rle = (compression == 1 && bpp == 8) || (compression == 2 && bpp == 4);
        if (!raw && !rle) {
            throw file.error("unsupported compression " + compression + " with " + bpp + " bits per pixel");
        }
        if (raw) {
            long stride = (width * bpp + 31) / 32 * 4;
            file.require(dataOffset, stride * height, "the " + width + "x" + height + " pixel data");
        } else if (dataOffset >= file.length()) {
            throw file.error("truncated: pixel data offset " + dataOffset + " is past the end of the file (" + file.length() + " bytes)");
        }
        return new Header((int) width, (int) height, bpp, compression);
    }

    static RgbImage decode(ByteReader file, Header header) throws IOException {
        BufferedImage image = ImageIoDecoding.read(file.data, "bmp", file).result();
        if (image.getWidth() != header.width() || image.getHeight() != header.height()) {
            throw file.error("decoder returned " + image.getWidth() + "x" + image.getHeight()
                    + " for a " + header.width() + "x" + header.height() + " header");
        }
        ColorModel cm = image.getColorModel();
        if (cm instanceof IndexColorModel icm) {
            byte[] palette = new byte[icm.getMapSize() * 3];
            for (int i = 0; i < icm.getMapSize(); i++) {
                palette[3 * i] = (byte) icm.getRed(i);
                palette[3 * i + 1] = (byte) icm.getGreen(i);
                palette[3 * i + 2] = (byte) icm.getBlue(i);
            }
            return RasterToRgb.fromPalette(image.getRaster(), palette);
        }
        int[] bands = {0, 1, 2};
        if (cm instanceof DirectColorModel) {
            // Red, green and blue fields may have different widths (5-6-5): widen each on its own.
            IntUnaryOperator[] rules = new IntUnaryOperator[3];
            for (int c = 0; c < 3; c++) {
                rules[c] = RasterToRgb.scaleBits(cm.getComponentSize(c));
            }
            return RasterToRgb.fromBands(image.getRaster(), bands, rules);
        }
        if (cm.getNumColorComponents() == 1) {
            // The JDK turns a palette that is the identity gray ramp into a gray image; PIL opens it as L.
            return RasterToRgb.fromBands(image.getRaster(), new int[] {0, 0, 0},
                    RasterToRgb.scaleBits(cm.getComponentSize(0)));
        }
        if (cm.getNumColorComponents() != 3 || cm.getComponentSize(0) != 8) {
            throw file.error("unexpected decoded layout " + cm);
        }
        return RasterToRgb.fromBands(image.getRaster(), bands, RasterToRgb.scaleBits(8));
    }
}
