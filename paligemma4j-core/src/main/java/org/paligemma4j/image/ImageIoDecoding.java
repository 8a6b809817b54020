package org.paligemma4j.image;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Runs one javax.imageio decoder over bytes in memory. The JDK's own readers are preferred over any
 * other plugin on the class path, because the conversion rules downstream rely on what they return
 * (raw samples, palette indices, the JPEG colour space untouched by {@code readRaster}). Metadata is
 * ignored, so ancillary chunks (compressed text, ICC profiles) are never inflated.
 */
final class ImageIoDecoding {

    private static final String JDK_PLUGINS = "com.sun.imageio.plugins.";

    private ImageIoDecoding() {}

    /** What one decode produced, with the decoder's warnings (libjpeg reports truncation as one). */
    record Decoded<T>(T result, List<String> warnings) {}

    static Decoded<BufferedImage> read(byte[] data, String formatName, ByteReader file) throws IOException {
        return run(data, formatName, file, false);
    }

    /** {@link ImageReader#readRaster}: the decoded samples without colour conversion. */
    static Decoded<Raster> readRaster(byte[] data, String formatName, ByteReader file) throws IOException {
        return run(data, formatName, file, true);
    }

    @SuppressWarnings("unchecked")
    private static <T> Decoded<T> run(byte[] data, String formatName, ByteReader file, boolean raster) throws IOException {
        ImageReader reader = reader(formatName, file);
        List<String> warnings = new ArrayList<>();
        IIOReadWarningListener listener = (source, warning) -> warnings.add(warning);
        try (ByteArrayImageInputStream in = new ByteArrayImageInputStream(data)) {
            reader.addIIOReadWarningListener(listener);
            reader.setInput(in, true, true);
            Object result = raster ? reader.readRaster(0, null) : reader.read(0, null);
            return new Decoded<>((T) result, warnings);
        } catch (IIOException e) {
            throw file.error("corrupt data: " + describe(e), e);
        } finally {
            reader.dispose();
        }
    }

    private static ImageReader reader(String formatName, ByteReader file) throws InvalidImageException {
        ImageReader fallback = null;
        for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(formatName); it.hasNext(); ) {
            ImageReader r = it.next();
            String plugin = r.getOriginatingProvider() == null ? "" : r.getOriginatingProvider().getPluginClassName();
            if (plugin.startsWith(JDK_PLUGINS)) {
                if (fallback != null) {
                    fallback.dispose();
                }
                return r;
            }
            if (fallback == null) {
                fallback = r;
            } else {
                r.dispose();
            }
        }
        if (fallback == null) {
            throw file.error("no javax.imageio decoder for " + formatName + " is installed");
        }
        return fallback;
    }

    /** The exception's message with its causes, which often hold the actual reason. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null && sb.length() < 300; t = t.getCause()) {
            String m = t.getMessage();
            if (sb.length() > 0) {
                sb.append(": ");
            }
            sb.append(m == null || m.isBlank() ? t.getClass().getSimpleName() : m);
            if (t.getCause() == t) {
                break;
            }
        }
        return sb.toString();
    }
}
