package org.paligemma4j.server;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.InvalidImageException;
import org.paligemma4j.image.RgbImage;

/**
 * Turns what a client sent as an image (a {@code data:} URI, base64 text, uploaded bytes, or a {@code file://}
 * URL under the allowed folder) into pixels. The server never fetches from the network: {@code http(s)} URLs
 * are refused. The decoder's pixel budget refuses decompression bombs from their header; at most a few images
 * decode at once, so a burst of large uploads cannot fill the heap.
 */
final class ImageInput {
    private final long maxPixels;
    private final Path allowFiles;
    private final long maxFileBytes;
    private final Semaphore decoding = new Semaphore(Math.max(2, Runtime.getRuntime().availableProcessors()));

    ImageInput(ServerOptions options) {
        this.maxPixels = Math.min(options.maxImagePixels(), ImageLoader.MAX_SUPPORTED_PIXELS);
        this.allowFiles = options.allowFiles();
        this.maxFileBytes = options.maxBodyBytes();
    }

    /** An {@code image_url} value: a data URI, or a file URL under {@code --allow-files}. */
    RgbImage fromUrl(String url, String param) {
        String lower = url.strip().toLowerCase(Locale.ROOT);
        if (lower.startsWith("data:")) return fromDataUri(url.strip(), param);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            throw ApiException.badRequest(param, "unsupported_image_url",
                    "image URLs over the network are not fetched: send the image inline as a data:image/...;base64, URI");
        }
        if (lower.startsWith("file:")) return fromFile(url.strip(), param);
        throw ApiException.badRequest(param, "unsupported_image_url",
                "an image URL must be a data:image/...;base64, URI" + (allowFiles == null ? "" : " or a file:// URL under the allowed folder"));
    }

    private RgbImage fromDataUri(String uri, String param) {
        int comma = uri.indexOf(',');
        if (comma < 0) throw ApiException.badRequest(param, "invalid_image", "the data URI has no ',' before its data");
        String header = uri.substring(5, comma).toLowerCase(Locale.ROOT);
        if (!header.endsWith(";base64")) {
            throw ApiException.badRequest(param, "invalid_image", "the data URI must be base64-encoded (data:image/png;base64,...)");
        }
        if (!header.isEmpty() && !header.startsWith("image/") && !header.startsWith(";") && !header.startsWith("application/octet-stream")) {
            throw ApiException.badRequest(param, "invalid_image", "the data URI's media type must be image/..., not '"
                    + header.substring(0, header.length() - ";base64".length()) + "'");
        }
        return fromBase64(uri.substring(comma + 1), param);
    }

    /** Base64 text (standard alphabet, padding optional, whitespace ignored), or a whole data URI. */
    RgbImage fromBase64(String text, String param) {
        if (text.regionMatches(true, 0, "data:", 0, 5)) return fromDataUri(text, param);
        byte[] bytes;
        try {
            bytes = Base64.getMimeDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(param, "invalid_image", "the image is not valid base64: " + e.getMessage());
        }
        return fromBytes(bytes, param);
    }

    RgbImage fromBytes(byte[] bytes, String param) {
        if (bytes.length == 0) throw ApiException.badRequest(param, "invalid_image", "the image is empty");
        try {
            decoding.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", null, "shutting_down", "the server is shutting down");
        }
        try {
            return ImageLoader.decode(bytes, param, maxPixels);
        } catch (InvalidImageException e) {
            throw ApiException.badRequest(param, "invalid_image", "the image could not be decoded: " + e.getMessage());
        } catch (RuntimeException e) {
            throw ApiException.badRequest(param, "invalid_image", "the image could not be decoded: "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        } finally {
            decoding.release();
        }
    }

    private RgbImage fromFile(String url, String param) {
        if (allowFiles == null) {
            throw ApiException.badRequest(param, "unsupported_image_url",
                    "file URLs are refused: the server reads local files only when started with --allow-files DIR");
        }
        Path file;
        try {
            file = Path.of(URI.create(url)).toAbsolutePath().normalize();
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(param, "invalid_image", "not a valid file URL: " + e.getMessage());
        }
        try {
            // Resolve links so that a link inside the folder cannot point outside it.
            Path real = file.toRealPath();
            if (!real.startsWith(allowFiles.toRealPath()) || !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
                throw ApiException.badRequest(param, "file_not_allowed", "the file is not a regular file under the allowed folder");
            }
            if (Files.size(real) > maxFileBytes) {
                throw ApiException.badRequest(param, "invalid_image", "the file is larger than the " + maxFileBytes + "-byte limit");
            }
            return fromBytes(Files.readAllBytes(real), param);
        } catch (IOException e) {
            throw ApiException.badRequest(param, "file_not_allowed", "the file is not a readable file under the allowed folder");
        }
    }
}
