package org.paligemma4j.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.server.PaliGemmaServer;
import org.paligemma4j.server.ServerOptions;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.tensor.WeightFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve a model over HTTP: the OpenAI Chat Completions API (POST /v1/chat/completions, GET /v1/models), "
                + "typed task endpoints (POST /v1/caption, /v1/answer, /v1/ocr, /v1/detect, /v1/segment), GET /health, "
                + "GET /metrics (Prometheus) and a web page at /.",
                "Running requests are batched: every one advances in one decoder pass per step. The URL is printed once "
                        + "the model is loaded; SIGINT/SIGTERM stop the server cleanly."},
        footer = {"", "Examples:",
                "  paligemma serve --model paligemma2-3b-mix-224 --quant q8",
                "  PALIGEMMA_API_KEY=secret paligemma serve --model DIR --host 0.0.0.0 --port 9000"})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR|NPZ",
            description = "Hugging Face PaliGemma model directory, a Hub id owner/name[@revision], or a big_vision .npz (default: $PALIGEMMA_MODEL).")
    Path model;

    @Option(names = "--config", paramLabel = "FILE", description = "Hugging Face config.json to use instead of the model's.")
    Path config;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.model or tokenizer.json to use instead of the model's (needed with an .npz).")
    Path tokenizer;

    @Option(names = "--adapter", paramLabel = "ADAPTER_DIR", description = "Serve with a PEFT LoRA adapter applied.")
    Path adapter;

    @Option(names = "--quant", paramLabel = "none|q8|q4", defaultValue = "none",
            description = "Weight format while serving: none (as stored), q8 or q4 (default: ${DEFAULT-VALUE}).")
    String quant;

    @Mixin
    KvCacheOption kvCache;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Interface to listen on (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 exposes the server).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "" + ServerOptions.DEFAULT_PORT,
            description = "TCP port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "" + ServerOptions.DEFAULT_MAX_BATCH,
            description = "Requests decoding together (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "" + ServerOptions.DEFAULT_MAX_QUEUE,
            description = "Requests waiting for a place; more get 429 with Retry-After (default: ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:PALIGEMMA_API_KEY}",
            description = "Require 'Authorization: Bearer KEY' on the API and /metrics (default: $PALIGEMMA_API_KEY; none: open).")
    String apiKey;

    @Option(names = "--vae", paramLabel = "NPZ", defaultValue = "${env:PALIGEMMA_VAE}",
            description = "big_vision's mask VQ-VAE (vae-oid.npz) for /v1/segment masks (default: $PALIGEMMA_VAE; none: boxes only).")
    Path vae;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads for the model (default: all processors).")
    Integer threads;

    @Option(names = "--allow-files", paramLabel = "DIR",
            description = "Let image URLs name local files (file://...) under DIR (default: no files are read).")
    Path allowFiles;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "" + ServerOptions.DEFAULT_MAX_NEW_TOKENS,
            description = "Most tokens one request may generate, and the default (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--max-body", paramLabel = "SIZE", defaultValue = "32MiB",
            description = "Largest request body, e.g. 32MiB (default: ${DEFAULT-VALUE}); larger ones get 413.")
    String maxBody;

    @Option(names = "--max-image-pixels", paramLabel = "N", defaultValue = "" + ServerOptions.DEFAULT_MAX_IMAGE_PIXELS,
            description = "Largest image, width x height, checked from its header (default: ${DEFAULT-VALUE}).")
    long maxImagePixels;

    @Option(names = "--max-images", paramLabel = "N", defaultValue = "" + ServerOptions.DEFAULT_MAX_IMAGES,
            description = "Most images in one request (default: ${DEFAULT-VALUE}).")
    int maxImages;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
            description = "Longest a request may run, waiting included; it then ends with what it has (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--model-name", paramLabel = "NAME",
            description = "The model id the API reports (default: the model folder's name).")
    String modelName;

    @Override
    public Integer call() throws Exception {
        WeightFormat format;
        try {
            format = WeightFormat.parse(quant);
        } catch (IllegalArgumentException e) {
            throw new CliException("--quant: " + e.getMessage());
        }
        var kvPrecision = kvCache.precision();
        ModelOptions modelOptions = new ModelOptions();
        modelOptions.model = model;
        modelOptions.threads = threads;
        modelOptions.config = config;
        modelOptions.tokenizer = tokenizer;
        org.paligemma4j.io.ModelSource source = modelOptions.source();
        Path dir = source.path();
        if (timeoutSeconds < 1) throw new CliException("--timeout must be at least 1 second");
        if (allowFiles != null && !Files.isDirectory(allowFiles)) throw new CliException(allowFiles + ": --allow-files needs an existing folder");
        MaskDecoder decoder = vae == null ? null : MaskDecoder.load(vae);
        String name = modelName != null ? modelName : dir.toAbsolutePath().normalize().getFileName().toString();
        ServerOptions options;
        try {
            options = ServerOptions.defaults(name).withHost(host).withPort(port).withMaxBatch(maxBatch).withMaxQueue(maxQueue)
                    .withApiKey(apiKey).withMaxBodyBytes(Sizes.parseBytes("--max-body", maxBody)).withMaxImagePixels(maxImagePixels)
                    .withMaxImages(maxImages).withMaxNewTokens(maxTokens).withRequestTimeout(Duration.ofSeconds(timeoutSeconds))
                    .withAllowFiles(allowFiles).withMaskDecoder(decoder);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        PaliGemmaServer server;
        try {
            // Compiled before the server says it is ready, so the first request runs at full speed.
            server = PaliGemmaServer.start(options, () -> ModelLoading.open(source, adapter, true, format).withKvCache(kvPrecision).warmUp());
        } catch (IllegalStateException e) {
            throw new CliException(e.getMessage());
        }
        Thread hook = Thread.ofPlatform().unstarted(() -> {
            System.err.println("paligemma serve: stopping");
            server.close();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            server.awaitReady();
        } catch (Exception e) {
            server.close();
            throw e;
        }
        if (options.apiKey() == null && !isLoopback(host)) {
            System.err.println("paligemma serve: warning: listening on " + host + " without an API key; anyone who can reach it may use it");
        }
        System.out.println("paligemma serve: " + name + " ready at " + server.url());
        System.out.flush();
        server.awaitClose();
        return 0;
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
