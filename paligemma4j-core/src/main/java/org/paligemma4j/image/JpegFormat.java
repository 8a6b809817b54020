package org.paligemma4j.image;

import java.awt.image.DataBufferByte;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.util.Arrays;

/**
 * JPEG: the markers up to the first scan are walked to find the frame size and to decide the colour
 * space by libjpeg's rules (JFIF and Adobe markers, then component ids), as PIL's decoder does. The
 * JDK decodes the samples with IJG libjpeg (same integer IDCT and fancy upsampling as the
 * libjpeg-turbo under PIL) and returns them unconverted; the colour conversion to RGB is done here
 * with libjpeg's fixed-point tables, so an embedded ICC profile changes nothing (PIL ignores it too).
 * CMYK and YCCK follow PIL: the 4 channels are taken as Adobe-inverted CMYK and converted with PIL's
 * {@code cmyk2rgb}.
 */
final class JpegFormat {

    private JpegFormat() {}

    enum ColorSpace { GRAYSCALE, RGB, YCBCR, CMYK, YCCK }

    record Header(int width, int height, int components, ColorSpace colorSpace, boolean progressive) {}

    static Header readHeader(ByteReader file) throws InvalidImageException {
        boolean jfif = false;
        boolean adobe = false;
        int adobeTransform = 0;
        int width = -1, height = -1, components = 0;
        int[] componentIds = null;
        boolean progressive = false;
        int pos = 2;
        while (true) {
            if (file.u8(pos, "a marker") != 0xff) {
                throw file.error(String.format("expected a marker at byte %d, found 0x%02x (corrupt file)", pos, file.data[pos] & 0xff));
            }
            int marker = file.u8(pos + 1, "a marker");
            if (marker == 0xff) { // fill byte
                pos++;
                continue;
            }
            if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { // TEM, RSTn: no length
                pos += 2;
                continue;
            }
            if (marker == 0xd8 || marker == 0xd9) {
                throw file.error(String.format("unexpected marker 0xff%02x at byte %d before the first scan", marker, pos));
            }
            int length = file.u16be(pos + 2, "the length of marker " + hex(marker));
            if (length < 2) {
                throw file.error("marker " + hex(marker) + " at byte " + pos + " has invalid length " + length);
            }
            int body = pos + 4;
            file.require(pos + 2, length, "marker " + hex(marker) + " at byte " + pos);
            int dataLen = length - 2;
            if (marker == 0xe0 && dataLen >= 14 && file.startsWith(body, new byte[] {'J', 'F', 'I', 'F', 0})) {
                jfif = true;
            } else if (marker == 0xee && dataLen >= 12 && file.startsWith(body, new byte[] {'A', 'd', 'o', 'b', 'e'})) {
                adobe = true;
                adobeTransform = file.u8(body + 11, "Adobe transform");
            } else if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc) {
                if (width >= 0) {
                    throw file.error("second frame header at byte " + pos + " (corrupt file)");
                }
                String process = switch (marker) {
                    case 0xc0, 0xc1 -> null;
                    case 0xc2 -> null;
                    case 0xc3 -> "lossless JPEG (SOF3)";
                    case 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf -> "arithmetic-coded JPEG";
                    default -> "hierarchical JPEG";
                };
                if (process != null) {
                    throw file.error(process + " is not supported");
                }
                progressive = marker == 0xc2;
                int precision = file.u8(body, "frame precision");
                height = file.u16be(body + 1, "frame height");
                width = file.u16be(body + 3, "frame width");
                components = file.u8(body + 5, "frame component count");
                if (precision != 8) {
                    throw file.error(precision + "-bit JPEG is not supported (only 8-bit samples)");
                }
                if (width == 0 || height == 0) {
                    throw file.error("frame size " + width + "x" + height + " at byte " + pos + " (a size set by a DNL marker is not supported)");
                }
                if (components != 1 && components != 3 && components != 4) {
                    throw file.error("cannot handle " + components + "-component images (only 1, 3 or 4)");
                }
                if (dataLen < 6 + 3 * components) {
                    throw file.error("frame header at byte " + pos + " is too short for " + components + " components");
                }
                componentIds = new int[components];
                for (int c = 0; c < components; c++) {
                    componentIds[c] = file.u8(body + 6 + 3 * c, "component id");
                    int sampling = file.u8(body + 7 + 3 * c, "component sampling");
                    if ((sampling >> 4) < 1 || (sampling >> 4) > 4 || (sampling & 15) < 1 || (sampling & 15) > 4) {
                        throw file.error("invalid sampling factors 0x" + Integer.toHexString(sampling) + " at byte " + (body + 7 + 3 * c));
                    }
                }
            } else if (marker == 0xda) { // start of scan: libjpeg has everything it reads in jpeg_read_header
                if (width < 0) {
                    throw file.error("scan at byte " + pos + " before any frame header");
                }
                return new Header(width, height, components,
                        colorSpace(components, jfif, adobe, adobeTransform, componentIds), progressive);
            }
            pos += 2 + length;
        }
    }

    /** libjpeg's default_decompress_parms: the colour space the file is taken to be in. */
    private static ColorSpace colorSpace(int components, boolean jfif, boolean adobe, int transform, int[] ids) {
        return switch (components) {
            case 1 -> ColorSpace.GRAYSCALE;
            case 3 -> {
                if (jfif) {
                    yield ColorSpace.YCBCR;
                }
                if (adobe) {
                    yield transform == 0 ? ColorSpace.RGB : ColorSpace.YCBCR;
                }
                yield ids[0] == 'R' && ids[1] == 'G' && ids[2] == 'B' ? ColorSpace.RGB : ColorSpace.YCBCR;
            }
            default -> adobe && transform != 0 ? ColorSpace.YCCK : ColorSpace.CMYK;
        };
    }

    static RgbImage decode(ByteReader file, Header header) throws IOException {
        var decoded = ImageIoDecoding.readRaster(file.data, "jpeg", file);
        for (String warning : decoded.warnings()) {
            // libjpeg pads a truncated file with gray and only warns; PIL refuses it ("image file is truncated").
            if (warning.contains("Premature end") || warning.contains("Truncated")) {
                throw file.error("truncated: the file ends before the image does (libjpeg: " + warning + ")");
            }
        }
        Raster raster = decoded.result();
        int w = header.width();
        int h = header.height();
        if (raster.getWidth() != w || raster.getHeight() != h || raster.getNumBands() != header.components()) {
            throw file.error("decoder returned " + raster.getWidth() + "x" + raster.getHeight() + "x" + raster.getNumBands()
                    + " samples for a " + w + "x" + h + "x" + header.components() + " frame");
        }
        byte[] samples = interleavedSamples(raster);
        byte[] rgb = new byte[w * h * 3];
        int n = w * h;
        switch (header.colorSpace()) {
            case GRAYSCALE -> {
                for (int i = 0, o = 0; i < n; i++) {
                    rgb[o++] = samples[i];
                    rgb[o++] = samples[i];
                    rgb[o++] = samples[i];
                }
            }
            case RGB -> System.arraycopy(samples, 0, rgb, 0, rgb.length);
            case YCBCR -> {
                for (int i = 0; i < n; i++) {
                    YccTables.toRgb(samples[3 * i] & 0xff, samples[3 * i + 1] & 0xff, samples[3 * i + 2] & 0xff, rgb, 3 * i);
                }
            }
            case CMYK, YCCK -> {
                byte[] px = new byte[3];
                for (int i = 0; i < n; i++) {
                    int c = samples[4 * i] & 0xff, m = samples[4 * i + 1] & 0xff, y = samples[4 * i + 2] & 0xff;
                    if (header.colorSpace() == ColorSpace.YCCK) {
                        // libjpeg's YCCK -> CMYK is 255 - (YCbCr -> RGB); PIL then inverts ("CMYK;I"),
                        // which gives back the RGB of the YCC triple.
                        YccTables.toRgb(c, m, y, px, 0);
                        c = 255 - (px[0] & 0xff);
                        m = 255 - (px[1] & 0xff);
                        y = 255 - (px[2] & 0xff);
                    }
                    // Raw Adobe CMYK is stored inverted: PIL reads (255 - c, ...) and K likewise,
                    // then cmyk2rgb with its "not K" = the raw k.
                    int nk = samples[4 * i + 3] & 0xff;
                    rgb[3 * i] = (byte) clip8(nk - mulDiv255(255 - c, nk));
                    rgb[3 * i + 1] = (byte) clip8(nk - mulDiv255(255 - m, nk));
                    rgb[3 * i + 2] = (byte) clip8(nk - mulDiv255(255 - y, nk));
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** PIL's MULDIV255: a * b / 255 rounded, with shifts. */
    static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    private static int clip8(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /** The raster's bytes as {@code [height, width, bands]}, without copying when already laid out so. */
    private static byte[] interleavedSamples(Raster raster) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        int bands = raster.getNumBands();
        if (raster.getDataBuffer() instanceof DataBufferByte buffer
                && buffer.getNumBanks() == 1 && buffer.getOffset() == 0
                && raster.getSampleModel() instanceof PixelInterleavedSampleModel sm
                && sm.getPixelStride() == bands && sm.getScanlineStride() == w * bands
                && Arrays.equals(sm.getBandOffsets(), java.util.stream.IntStream.range(0, bands).toArray())
                && raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0
                && buffer.getData().length == w * h * bands) {
            return buffer.getData();
        }
        byte[] out = new byte[w * h * bands];
        int[] row = new int[w * bands];
        for (int y = 0; y < h; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            for (int i = 0; i < row.length; i++) {
                out[y * w * bands + i] = (byte) row[i];
            }
        }
        return out;
    }

    private static String hex(int marker) {
        return String.format("0xff%02x", marker);
    }

    /**
     * libjpeg's YCbCr to RGB conversion (jdcolor.c): 16-bit fixed-point coefficients of the JFIF
     * equations, rounded once per term, and the result clamped to 0..255.
     */
    static final class YccTables {
        private static final int SCALEBITS = 16;
        private static final int ONE_HALF = 1 << (SCALEBITS - 1);
        private static final int[] CR_R = new int[256];
        private static final int[] CB_B = new int[256];
        private static final int[] CR_G = new int[256];
        private static final int[] CB_G = new int[256];

        static {
            for (int i = 0; i < 256; i++) {
                int x = i - 128;
                CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
                CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
                CR_G[i] = -fix(0.71414) * x;
                CB_G[i] = -fix(0.34414) * x + ONE_HALF;
            }
        }

        private YccTables() {}

        private static int fix(double x) {
            return (int) (x * (1L << SCALEBITS) + 0.5);
        }

        static void toRgb(int y, int cb, int cr, byte[] out, int o) {
            out[o] = (byte) clip8(y + CR_R[cr]);
            out[o + 1] = (byte) clip8(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
            out[o + 2] = (byte) clip8(y + CB_B[cb]);
        }
    }
}
