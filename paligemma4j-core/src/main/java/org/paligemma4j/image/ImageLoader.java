package org.paligemma4j.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * Reads an image file into 8-bit RGB the way PIL's {@code Image.open(f).convert("RGB")} does:
 * PNG, JPEG (baseline, progressive, gray, CMYK, YCCK), GIF (first frame), BMP and WebP.
 *
 * <p>Safety: the dimensions are read from the header and checked against a pixel budget before any
 * pixel memory is allocated (default {@link #DEFAULT_MAX_PIXELS}, PIL's decompression-bomb
 * threshold); the file structure is checked before decoding (PNG chunk CRCs, truncation of every
 * format); every failure is an {@link InvalidImageException} naming the file and the problem.
 * The original size is kept: resizing is {@link ImagePreprocessor}'s job. EXIF orientation and
 * ICC profiles are not applied, as PIL's {@code open} + {@code convert} do not apply them.
 */
public final class ImageLoader {

    /**
     * PIL's {@code Image.MAX_IMAGE_PIXELS} (1024 * 1024 * 1024 / 4 / 3): PIL warns above it (and
     * refuses above twice as many); here it is a hard limit, so a hostile header costs nothing.
     */
    public static final long DEFAULT_MAX_PIXELS = 1024L * 1024 * 1024 / 4 / 3;

    /** Above this an RGB array of the image would not fit in one Java array. */
    public static final long MAX_SUPPORTED_PIXELS = (Integer.MAX_VALUE - 8) / 3;

    private ImageLoader() {}

    /** Loads with the default pixel budget. */
    public static RgbImage load(Path file) throws IOException {
        return load(file, DEFAULT_MAX_PIXELS);
    }

    public static RgbImage load(Path file, long maxPixels) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) {
            throw new InvalidImageException(file + ": the file has " + size + " bytes, more than an image file may have here (2 GiB)");
        }
        return decode(Files.readAllBytes(file), file.toString(), maxPixels);
    }

    /**
     * Decodes an image held in memory; {@code name} is used in error messages. Images with more
     * than {@code maxPixels} pixels are refused from their header alone.
     */
    public static RgbImage decode(byte[] data, String name, long maxPixels) throws InvalidImageException {
        if (maxPixels <= 0 || maxPixels > MAX_SUPPORTED_PIXELS) {
            throw new IllegalArgumentException("maxPixels must be in 1.." + MAX_SUPPORTED_PIXELS + ", got " + maxPixels);
        }
        Format format = Format.sniff(data, name);
        ByteReader file = new ByteReader(data, name, format.label);
        try {
            return switch (format) {
                case PNG -> {
                    var h = PngFormat.readHeader(file);
                    checkBudget(file, h.width(), h.height(), maxPixels);
                    yield PngFormat.decode(file, h);
                }
                case JPEG -> {
                    var h = JpegFormat.readHeader(file);
                    checkBudget(file, h.width(), h.height(), maxPixels);
                    yield JpegFormat.decode(file, h);
                }
                case GIF -> {
                    var h = GifFormat.readHeader(file);
                    checkBudget(file, h.width(), h.height(), maxPixels);
                    yield GifFormat.decode(file, h);
                }
                case BMP -> {
                    var h = BmpFormat.readHeader(file);
                    checkBudget(file, h.width(), h.height(), maxPixels);
                    yield BmpFormat.decode(file, h);
                }
                case WEBP -> {
                    var h = WebpFormat.readHeader(file);
                    checkBudget(file, h.width(), h.height(), maxPixels);
                    yield WebpFormat.decode(file, h);
                }
            };
        } catch (InvalidImageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Decoders report corrupt data with whatever exception their code path hits
            // (EOFException, IndexOutOfBounds, IllegalArgument...): all mean the same to the caller.
            throw file.error("corrupt data: " + ImageIoDecoding.describe(e), e);
        }
    }

    /** Width and height as the header states them, checked against the budget; nothing decoded yet. */
    private static void checkBudget(ByteReader file, long width, long height, long maxPixels) throws InvalidImageException {
        long pixels = width * height;
        if (pixels > maxPixels) {
            throw file.error(String.format("the header claims %dx%d = %,d pixels, above the limit of %,d"
                    + " (a decompression bomb or an image too large to process; raise the limit to allow it)",
                    width, height, pixels, maxPixels));
        }
    }

    /** File formats recognised by their first bytes (never by the file name). */
    enum Format {
        PNG("png"), JPEG("jpeg"), GIF("gif"), BMP("bmp"), WEBP("webp");

        final String label;

        Format(String label) {
            this.label = label;
        }

        static Format sniff(byte[] d, String name) throws InvalidImageException {
            ByteReader r = new ByteReader(d, name, "image");
            if (r.startsWith(0, PngFormat.SIGNATURE)) {
                return PNG;
            }
            if (d.length >= 3 && (d[0] & 0xff) == 0xff && (d[1] & 0xff) == 0xd8 && (d[2] & 0xff) == 0xff) {
                return JPEG;
            }
            if (r.startsWith(0, ascii("GIF87a")) || r.startsWith(0, ascii("GIF89a"))) {
                return GIF;
            }
            if (r.startsWith(0, ascii("BM"))) {
                return BMP;
            }
            if (r.startsWith(0, ascii("RIFF")) && r.startsWith(8, ascii("WEBP"))) {
                return WEBP;
            }
            String other = r.startsWith(0, ascii("II*\0")) || r.startsWith(0, ascii("MM\0*")) ? "TIFF"
                    : r.startsWith(4, ascii("ftypheic")) || r.startsWith(4, ascii("ftypheix")) || r.startsWith(4, ascii("ftypmif1")) ? "HEIF"
                    : r.startsWith(4, ascii("ftypavif")) ? "AVIF"
                    : r.startsWith(0, ascii("%PDF")) ? "PDF"
                    : d.length == 0 ? "an empty file" : null;
            String found = other != null ? other
                    : "unknown (first bytes " + HexFormat.ofDelimiter(" ").formatHex(d, 0, Math.min(8, d.length)) + ")";
            throw new InvalidImageException(name + ": unsupported image format: " + found
                    + "; supported: PNG, JPEG, GIF, BMP, WebP");
        }

        private static byte[] ascii(String s) {
            return s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }
}
