package org.paligemma4j.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.paligemma4j.tasks.MaskDecoder;

/**
 * How a {@link PaliGemmaServer} listens and what it lets one client ask for. Every limit exists so that one
 * client cannot hurt the others: bodies, images and outputs are bounded, waiting requests are bounded (past
 * {@code maxQueue} a client gets 429), and a generation that runs longer than {@code requestTimeout} ends.
 * Immutable; the {@code withX} methods return modified copies.
 *
 * @param host            interface to bind; loopback by default, anything else is the user's explicit choice
 * @param port            TCP port; 0 picks a free one ({@link PaliGemmaServer#port()} tells which)
 * @param maxBatch        sequences decoding together in the engine
 * @param maxQueue        requests waiting for a place in the batch; more get 429
 * @param apiKey          required as {@code Authorization: Bearer KEY} on the API (null: no key needed)
 * @param maxBodyBytes    largest request body
 * @param maxImagePixels  largest image (width × height, checked from the header before decoding)
 * @param maxImages       most images in one request
 * @param maxNewTokens    most tokens one request may generate (also the default when a request names none)
 * @param maxPromptChars  longest prompt text (before tokenizing; the model's position limit applies as well)
 * @param requestTimeout  longest time a generation may run, queueing included (null: no limit)
 * @param allowFiles      folder under which {@code file://} image URLs may be read (null: none)
 * @param maskDecoder     big_vision's mask VQ-VAE for segment masks (null: boxes only)
 * @param modelName       the id {@code GET /v1/models} lists
 */
public record ServerOptions(String host, int port, int maxBatch, int maxQueue, String apiKey, long maxBodyBytes,
                            long maxImagePixels, int maxImages, int maxNewTokens, int maxPromptChars,
                            Duration requestTimeout, Path allowFiles, MaskDecoder maskDecoder, String modelName) {

    public ServerOptions {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(modelName, "modelName");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        if (maxBatch < 1) throw new IllegalArgumentException("max batch must be at least 1, got " + maxBatch);
        if (maxQueue < 0) throw new IllegalArgumentException("max queue must not be negative, got " + maxQueue);
        if (maxBodyBytes < 1024) throw new IllegalArgumentException("max body size must be at least 1024 bytes, got " + maxBodyBytes);
        if (maxImagePixels < 1) throw new IllegalArgumentException("max image pixels must be positive, got " + maxImagePixels);
        if (maxImages < 1) throw new IllegalArgumentException("max images must be at least 1, got " + maxImages);
        if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        if (maxPromptChars < 1) throw new IllegalArgumentException("max prompt characters must be at least 1, got " + maxPromptChars);
        if (requestTimeout != null && (requestTimeout.isNegative() || requestTimeout.isZero())) {
            throw new IllegalArgumentException("request timeout must be positive, got " + requestTimeout);
        }
        if (apiKey != null && apiKey.isEmpty()) apiKey = null;
        if (allowFiles != null) allowFiles = allowFiles.toAbsolutePath().normalize();
    }

    /** Default limits, in one place so the command's help and the README can name them. */
    public static final int DEFAULT_PORT = 8080, DEFAULT_MAX_BATCH = 8, DEFAULT_MAX_QUEUE = 64, DEFAULT_MAX_IMAGES = 4,
            DEFAULT_MAX_NEW_TOKENS = 256, DEFAULT_MAX_PROMPT_CHARS = 8192;
    public static final long DEFAULT_MAX_BODY_BYTES = 32L << 20, DEFAULT_MAX_IMAGE_PIXELS = 4096L * 4096;
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofMinutes(5);

    /** Loopback on port 8080 with the default limits, no key, no files, no mask decoder. */
    public static ServerOptions defaults(String modelName) {
        return new ServerOptions("127.0.0.1", DEFAULT_PORT, DEFAULT_MAX_BATCH, DEFAULT_MAX_QUEUE, null, DEFAULT_MAX_BODY_BYTES,
                DEFAULT_MAX_IMAGE_PIXELS, DEFAULT_MAX_IMAGES, DEFAULT_MAX_NEW_TOKENS, DEFAULT_MAX_PROMPT_CHARS,
                DEFAULT_REQUEST_TIMEOUT, null, null, modelName);
    }

    public ServerOptions withHost(String h) {
        return new ServerOptions(h, port, maxBatch, maxQueue, apiKey, maxBodyBytes, maxImagePixels, maxImages, maxNewTokens,
                maxPromptChars, requestTimeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withPort(int p) {
        return new ServerOptions(host, p, maxBatch, maxQueue, apiKey, maxBodyBytes, maxImagePixels, maxImages, maxNewTokens,
                maxPromptChars, requestTimeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withMaxBatch(int n) {
        return new ServerOptions(host, port, n, maxQueue, apiKey, maxBodyBytes, maxImagePixels, maxImages, maxNewTokens,
                maxPromptChars, requestTimeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withMaxQueue(int n) {
        return new ServerOptions(host, port, maxBatch, n, apiKey, maxBodyBytes, maxImagePixels, maxImages, maxNewTokens,
                maxPromptChars, requestTimeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withApiKey(String key) {
        return new ServerOptions(host, port, maxBatch, maxQueue, key, maxBodyBytes, maxImagePixels, maxImages, maxNewTokens,
                maxPromptChars, requestTimeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withMaxBodyBytes(long n) {
        return new ServerOptions(host, port, maxBatch, maxQueue, apiKey, n, maxImagePixels, maxImages, maxNewTokens,
                maxPromptChars, requestTimeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withMaxImagePixels(long n) {
        return new ServerOptions(host, port, maxBatch, maxQueue, apiKey, maxBodyBytes, n, maxImages, maxNewTokens,
                maxPromptChars, requestTimeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withMaxImages(int n) {
        return new ServerOptions(host, port, maxBatch, maxQueue, apiKey, maxBodyBytes, maxImagePixels, n, maxNewTokens,
                maxPromptChars, requestTimeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withMaxNewTokens(int n) {
        return new ServerOptions(host, port, maxBatch, maxQueue, apiKey, maxBodyBytes, maxImagePixels, maxImages, n,
                maxPromptChars, requestTimeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withMaxPromptChars(int n) {
        return new ServerOptions(host, port, maxBatch, maxQueue, apiKey, maxBodyBytes, maxImagePixels, maxImages, maxNewTokens,
                n, requestTimeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withRequestTimeout(Duration timeout) {
        return new ServerOptions(host, port, maxBatch, maxQueue, apiKey, maxBodyBytes, maxImagePixels, maxImages, maxNewTokens,
                maxPromptChars, timeout, allowFiles, maskDecoder, modelName);
    }

    public ServerOptions withAllowFiles(Path folder) {
        return new ServerOptions(host, port, maxBatch, maxQueue, apiKey, maxBodyBytes, maxImagePixels, maxImages, maxNewTokens,
                maxPromptChars, requestTimeout, folder, maskDecoder, modelName);
    }

    public ServerOptions withMaskDecoder(MaskDecoder decoder) {
        return new ServerOptions(host, port, maxBatch, maxQueue, apiKey, maxBodyBytes, maxImagePixels, maxImages, maxNewTokens,
                maxPromptChars, requestTimeout, allowFiles, decoder, modelName);
    }
}
