package org.paligemma4j.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.engine.Engine;
import org.paligemma4j.engine.EngineOptions;
import org.paligemma4j.engine.Generation;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.RgbImage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code paligemma serve}: the OpenAI Chat Completions API, typed task endpoints, health, metrics and a web page,
 * over one {@link Engine} that batches every running request into one decoder pass per step.
 *
 * <pre>{@code
 * try (PaliGemmaServer server = PaliGemmaServer.start(ServerOptions.defaults("paligemma"), () -> PaliGemma.open(dir))) {
 *     server.awaitReady();
 *     System.out.println(server.url());
 *     server.awaitClose();
 * }
 * }</pre>
 *
 * Requests run on virtual threads; they only parse, decode images and wait for the engine. Every error a client
 * can cause is a 4xx in OpenAI's error shape; a bug is a 500 with a generic message (the details go to the log).
 */
public final class PaliGemmaServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PaliGemmaServer.class);
    /** Marks a request one of our routes answered, so Javalin's status error handlers leave its response alone. */
    private static final String HANDLED = "paligemma.handled";

    private final ServerOptions options;
    private final ServerMetrics metrics = new ServerMetrics();
    private final ImageInput images;
    private final ObjectMapper json;
    private final long created = Instant.now().getEpochSecond();
    private final Javalin app;
    private final boolean ownsModel;
    private final CountDownLatch ready = new CountDownLatch(1), closed = new CountDownLatch(1);
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Requests between arriving and reaching the engine's queue: their bodies and images are in memory. */
    private final java.util.concurrent.Semaphore preparing;
    private volatile PaliGemma model;
    private volatile Engine engine;
    private volatile Generations generations;
    private volatile Throwable loadFailure;
    private volatile boolean closing;

    private PaliGemmaServer(ServerOptions options, boolean ownsModel) {
        this.options = options;
        this.ownsModel = ownsModel;
        this.images = new ImageInput(options);
        this.preparing = new java.util.concurrent.Semaphore(options.maxBatch() + options.maxQueue());
        this.json = new ObjectMapper();
        // Base64 images are long strings: allow them up to the body limit (Jackson's default stops at 20 MB).
        json.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength((int) Math.min(Integer.MAX_VALUE - 8, options.maxBodyBytes())).build());
        this.app = Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            // Server-sent events must reach the client token by token, not when a compression buffer fills.
            config.http.compressionStrategy = CompressionStrategy.NONE;
            config.http.maxRequestSize = options.maxBodyBytes();
            config.jetty.multipartConfig.maxTotalRequestSize(options.maxBodyBytes(), io.javalin.config.SizeUnit.BYTES);
            config.jetty.multipartConfig.maxFileSize(options.maxBodyBytes(), io.javalin.config.SizeUnit.BYTES);
            config.jetty.multipartConfig.maxInMemoryFileSize((int) Math.min(Integer.MAX_VALUE, options.maxBodyBytes()),
                    io.javalin.config.SizeUnit.BYTES);
            config.routes.get("/health", ctx -> handle(ctx, "health", false, this::health));
            config.routes.get("/metrics", ctx -> handle(ctx, "metrics", true, this::metricsPage));
            config.routes.get("/v1/models", ctx -> handle(ctx, "models", true, this::models));
            config.routes.post("/v1/chat/completions", ctx -> handle(ctx, "chat_completions", true, this::chatCompletions));
            for (TaskEndpoints.Task task : TaskEndpoints.Task.values()) {
                config.routes.post("/v1/" + task.endpoint, ctx -> handle(ctx, task.endpoint, true, c -> task(c, task)));
            }
            config.routes.get("/", ctx -> handle(ctx, "page", false, c -> staticFile(c, "index.html", "text/html; charset=utf-8")));
            config.routes.get("/app.js", ctx -> handle(ctx, "page", false, c -> staticFile(c, "app.js", "text/javascript; charset=utf-8")));
            config.routes.get("/style.css", ctx -> handle(ctx, "page", false, c -> staticFile(c, "style.css", "text/css; charset=utf-8")));
            config.routes.error(404, "*", ctx -> {
                if (ctx.attribute(HANDLED) == null) {
                    writeError(ctx, new ApiException(404, "invalid_request_error", null, "not_found",
                            "no endpoint " + ctx.method() + " " + ctx.path()));
                    metrics.countRequest("other", 404);
                }
            });
            config.routes.error(405, "*", ctx -> {
                if (ctx.attribute(HANDLED) == null) {
                    writeError(ctx, new ApiException(405, "invalid_request_error", null, "method_not_allowed",
                            "method " + ctx.method() + " is not allowed on " + ctx.path()));
                }
            });
            config.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("unexpected failure on {} {}", ctx.method(), ctx.path(), e);
                writeError(ctx, new ApiException(500, "server_error", null, null, "internal error; the server log has the details"));
            });
        });
    }

    /**
     * Starts listening now and loads the model with {@code loader} on another thread: until it is loaded
     * {@code /health} answers "loading" (503) and the API 503. The server closes the model it loaded.
     */
    public static PaliGemmaServer start(ServerOptions options, Callable<PaliGemma> loader) {
        PaliGemmaServer s = new PaliGemmaServer(options, true);
        s.listen();
        Thread.ofPlatform().name("paligemma-model-loader").daemon().start(() -> {
            try {
                s.ready(loader.call());
            } catch (Throwable e) {
                s.loadFailure = e;
                s.ready.countDown();
            }
        });
        return s;
    }

    /** Serves an open model (ready at once); the caller keeps it and closes it after the server. */
    public static PaliGemmaServer start(ServerOptions options, PaliGemma model) {
        PaliGemmaServer s = new PaliGemmaServer(options, false);
        s.ready(model);
        try {
            s.listen();
        } catch (RuntimeException e) {
            s.engine.close();
            throw e;
        }
        return s;
    }

    private void listen() {
        try {
            app.start(options.host(), options.port());
        } catch (RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (e.getCause() != null && e.getCause().getMessage() != null) why = e.getCause().getMessage();
            throw new IllegalStateException("cannot listen on " + options.host() + ":" + options.port() + ": " + why, e);
        }
    }

    private synchronized void ready(PaliGemma loaded) {
        if (closing) {
            if (ownsModel) loaded.close();
            ready.countDown();
            return;
        }
        this.model = loaded;
        this.engine = Engine.start(loaded, EngineOptions.defaults().withMaxBatch(options.maxBatch())
                .withMaxQueue(options.maxQueue()).withRequestTimeout(options.requestTimeout()));
        this.generations = new Generations(loaded, engine, options, metrics);
        ready.countDown();
    }

    /** Waits until the model is loaded; a failed load is rethrown (as the exception the loader threw). */
    public void awaitReady() throws Exception {
        ready.await();
        Throwable failure = loadFailure;
        if (failure instanceof Exception e) throw e;
        if (failure instanceof Error e) throw e;
        if (closing && generations == null) throw new IllegalStateException("the server closed before the model loaded");
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClose() throws InterruptedException {
        closed.await();
    }

    public int port() {
        return app.port();
    }

    /** {@code http://host:port/}, with IPv6 hosts in brackets. */
    public String url() {
        String host = options.host();
        if (host.contains(":") && !host.startsWith("[")) host = "[" + host + "]";
        return "http://" + host + ":" + port() + "/";
    }

    public ServerOptions options() {
        return options;
    }

    /**
     * Stops taking requests (new ones get 503), ends the running generations (their clients get what was
     * generated, or a 503 when nothing was), waits briefly for their responses to be written, then stops listening.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) return;
            closing = true;
        }
        try {
            Engine e = engine;
            if (e != null) e.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (inFlight.get() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            app.stop();
            if (ownsModel && model != null) model.close();
            closed.countDown();
        }
    }

    // ---- request handling ----

    @FunctionalInterface
    private interface Endpoint {
        void handle(Context ctx) throws Exception;
    }

    /** Every route: key check, the handler, errors as OpenAI error JSON, and the request counted by endpoint and status. */
    private void handle(Context ctx, String endpoint, boolean needsKey, Endpoint handler) {
        inFlight.incrementAndGet();
        ctx.attribute(HANDLED, Boolean.TRUE);
        try {
            if (needsKey) checkKey(ctx);
            handler.handle(ctx);
        } catch (ApiException e) {
            writeError(ctx, e);
        } catch (IOException e) {
            // The client went away or sent a broken body while it was being read: nothing useful to say to it.
            LOG.debug("could not read {} {}: {}", ctx.method(), ctx.path(), e.toString());
            writeError(ctx, ApiException.badRequest(null, "could not read the request: " + e.getMessage()));
        } catch (Exception e) {
            LOG.error("unexpected failure on {} {}", ctx.method(), ctx.path(), e);
            writeError(ctx, new ApiException(500, "server_error", null, null, "internal error; the server log has the details"));
        } finally {
            inFlight.decrementAndGet();
            metrics.countRequest(endpoint, ctx.statusCode());
        }
    }

    private void checkKey(Context ctx) {
        String key = options.apiKey();
        if (key == null) return;
        String header = ctx.header("Authorization");
        if (header == null || header.isBlank()) {
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                    "missing API key: send the header 'Authorization: Bearer KEY'");
        }
        String given = header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).strip() : "";
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), key.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key", "wrong API key");
        }
    }

    private void writeError(Context ctx, ApiException e) {
        if (ctx.res().isCommitted()) return;
        ctx.res().resetBuffer();
        ctx.status(e.status);
        if (e.status == 429) ctx.header("Retry-After", Integer.toString(Generations.RETRY_AFTER_SECONDS));
        if (e.status == 401) ctx.header("WWW-Authenticate", "Bearer");
        writeJson(ctx, e.toJson());
    }

    private void writeJson(Context ctx, JsonNode body) {
        try {
            ctx.contentType("application/json").result(json.writeValueAsBytes(body));
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The model and engine, or a 503 while loading or closing. */
    private Generations generations() {
        Generations g = generations;
        if (closing) throw Generations.shuttingDown();
        if (g == null) {
            throw new ApiException(503, "server_error", null, "loading", loadFailure == null
                    ? "the model is still loading; try again shortly" : "the model failed to load");
        }
        return g;
    }

    private void health(Context ctx) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        boolean isReady = generations != null && !closing;
        o.put("status", closing ? "closing" : isReady ? "ready" : loadFailure != null ? "failed" : "loading");
        if (isReady) {
            o.put("model", options.modelName());
            o.put("queue_depth", engine.queueDepth());
            o.put("active", engine.activeCount());
        }
        ctx.status(isReady ? 200 : 503);
        writeJson(ctx, o);
    }

    private void metricsPage(Context ctx) {
        ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.render(engine, generations != null && !closing));
    }

    private void models(Context ctx) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("object", "list");
        ObjectNode m = o.putArray("data").addObject();
        m.put("id", options.modelName());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "paligemma4j");
        writeJson(ctx, o);
    }

    private void staticFile(Context ctx, String name, String type) throws IOException {
        try (InputStream in = PaliGemmaServer.class.getResourceAsStream("web/" + name)) {
            if (in == null) throw new ApiException(404, "invalid_request_error", null, "not_found", "no page " + name + " in this build");
            ctx.contentType(type).result(in.readAllBytes());
        }
    }

    /** The body, refused with 413 past the size limit (before reading it when the client declares its length). */
    private byte[] body(Context ctx) throws IOException {
        long declared = ctx.req().getContentLengthLong();
        long max = options.maxBodyBytes();
        if (declared > max) throw tooLarge(declared);
        byte[] body = ctx.req().getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        if (body.length > max) throw tooLarge(-1);
        return body;
    }

    private ApiException tooLarge(long declared) {
        return new ApiException(413, "invalid_request_error", null, "request_too_large", "the request body "
                + (declared >= 0 ? "has " + declared + " bytes, " : "is ") + "larger than this server's limit of "
                + options.maxBodyBytes() + " bytes (--max-body)");
    }

    private JsonNode jsonBody(Context ctx) throws IOException {
        byte[] body = body(ctx);
        if (body.length == 0) throw ApiException.badRequest(null, "the body is empty: send a JSON object");
        try {
            JsonNode root = json.readTree(body);
            if (root == null || !root.isObject()) throw ApiException.badRequest(null, "the body must be a JSON object");
            return root;
        } catch (JacksonException e) {
            throw ApiException.badRequest(null, "invalid_json", "the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private void chatCompletions(Context ctx) throws IOException {
        Generations g = generations();
        g.refuseWhenQueueFull();
        try (Admission admission = admit()) {
            JsonNode root = jsonBody(ctx);
            ChatCompletions.Request request = ChatCompletions.parse(root, images, g, options.maxImages());
            String id = ChatCompletions.newId();
            long now = Instant.now().getEpochSecond();
            if (!request.stream()) {
                Generation generation = g.submit(request.images(), request.prompt(), request.options(), null);
                admission.close();
                GenerationResult result = g.await(generation);
                writeJson(ctx, ChatCompletions.completion(id, now, options.modelName(), result, request.logprobs(), g.model().tokenizer()));
                return;
            }
            stream(ctx, g, request, id, now, admission);
        }
    }

    /**
     * A place among the requests being read and decoded: with at most {@code maxBatch + maxQueue} of them at a
     * time (each holding a body and an image), a burst of clients cannot fill the heap; the rest get 429.
     * Released once the request reaches the engine's queue (or fails).
     */
    private final class Admission implements AutoCloseable {
        private final java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean(true);

        @Override
        public void close() {
            if (held.compareAndSet(true, false)) preparing.release();
        }
    }

    private Admission admit() {
        if (!preparing.tryAcquire()) {
            throw Generations.queueFull("the server is busy: " + (options.maxBatch() + options.maxQueue())
                    + " requests are already being prepared or waiting; try again later");
        }
        return new Admission();
    }

    /** How one kind of event stream shapes its events (chat completion chunks, or the task stream's). */
    private interface StreamShape {
        /** Sent when the stream opens; null for nothing. */
        JsonNode opening();

        JsonNode piece(String text);

        /** The events after the last piece. */
        List<JsonNode> closing(GenerationResult result);
    }

    private void stream(Context ctx, Generations g, ChatCompletions.Request request, String id, long now, Admission admission)
            throws IOException {
        String model = options.modelName();
        streamEvents(ctx, g, request.images(), request.prompt(), request.options(), admission, new StreamShape() {
            public JsonNode opening() {
                ObjectNode delta = ChatCompletions.JSON.objectNode().put("role", "assistant").put("content", "");
                return ChatCompletions.chunk(id, now, model, delta, null, null);
            }

            public JsonNode piece(String text) {
                return ChatCompletions.chunk(id, now, model, ChatCompletions.JSON.objectNode().put("content", text), null, null);
            }

            public List<JsonNode> closing(GenerationResult result) {
                List<JsonNode> events = new java.util.ArrayList<>();
                events.add(ChatCompletions.chunk(id, now, model, null, ChatCompletions.finishReason(result.finishReason()),
                        request.logprobs() ? ChatCompletions.logprobs(result, g.model().tokenizer()) : null));
                if (request.includeUsage()) events.add(ChatCompletions.usageChunk(id, now, model, result));
                return events;
            }
        });
    }

    /**
     * Server-sent events: an opening event, one event per piece of text as the engine makes it final, the closing
     * events, then {@code data: [DONE]}. Nothing is sent until the first piece, so a request that fails before
     * any token still gets its status code. The engine's thread only queues text; this request's thread writes
     * it, and a write that fails (the client went away) cancels the generation, which frees its slot at the next step.
     */
    private void streamEvents(Context ctx, Generations g, List<RgbImage> pictures, String prompt,
                              org.paligemma4j.generate.GenerationOptions generationOptions, Admission admission,
                              StreamShape shape) throws IOException {
        LinkedBlockingQueue<String> pieces = new LinkedBlockingQueue<>();
        Generation generation = g.submit(pictures, prompt, generationOptions, (tokenId, text) -> {
            if (!text.isEmpty()) pieces.add(text);
        });
        admission.close();
        OutputStream out = null;
        StringBuilder streamed = new StringBuilder();
        try {
            while (true) {
                String piece = pieces.poll(50, TimeUnit.MILLISECONDS);
                if (piece == null) {
                    if (!generation.result().isDone()) continue;
                    if (pieces.isEmpty()) break;
                    continue;
                }
                if (out == null) out = startEvents(ctx, shape);
                streamed.append(piece);
                event(out, shape.piece(piece));
            }
            GenerationResult result;
            try {
                result = g.await(generation);
            } catch (ApiException e) {
                if (out == null) throw e;
                event(out, e.toJson());
                sendDone(out);
                return;
            }
            if (out == null) out = startEvents(ctx, shape);
            // A generation ended early (time limit) may hold back text it never streamed: send it now, so the
            // pieces always add up to the non-streamed answer.
            String text = result.text();
            if (text.length() > streamed.length() && text.startsWith(streamed.toString())) {
                event(out, shape.piece(text.substring(streamed.length())));
            }
            for (JsonNode e : shape.closing(result)) event(out, e);
            sendDone(out);
        } catch (IOException clientGone) {
            g.cancel(generation);
        } catch (InterruptedException e) {
            g.cancel(generation);
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            g.cancel(generation);
            throw e;
        }
    }

    private OutputStream startEvents(Context ctx, StreamShape shape) throws IOException {
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        OutputStream out = ctx.res().getOutputStream();
        JsonNode opening = shape.opening();
        if (opening != null) event(out, opening);
        else out.flush();
        return out;
    }

    private void event(OutputStream out, JsonNode data) throws IOException {
        out.write("data: ".getBytes(StandardCharsets.UTF_8));
        out.write(json.writeValueAsBytes(data));
        out.write("\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void sendDone(OutputStream out) throws IOException {
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private void task(Context ctx, TaskEndpoints.Task task) throws IOException {
        Generations g = generations();
        g.refuseWhenQueueFull();
        try (Admission admission = admit()) {
            task(ctx, task, g, admission);
        }
    }

    private void task(Context ctx, TaskEndpoints.Task task, Generations g, Admission admission) throws IOException {
        ObjectNode fields;
        RgbImage image;
        String type = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(java.util.Locale.ROOT);
        if (type.startsWith("multipart/form-data")) {
            long declared = ctx.req().getContentLengthLong();
            if (declared > options.maxBodyBytes()) throw tooLarge(declared);
            fields = JsonNodeFactory.instance.objectNode();
            UploadedFile file;
            Map<String, List<String>> form;
            try {
                file = ctx.uploadedFile("image");
                form = ctx.formParamMap();
            } catch (RuntimeException e) {
                throw ApiException.badRequest(null, "invalid_multipart", "could not read the multipart body: "
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            }
            form.forEach((name, values) -> {
                if (values.isEmpty()) return;
                String v = values.getFirst();
                if (name.equals("stream") && (v.equals("true") || v.equals("false"))) {
                    fields.put(name, Boolean.parseBoolean(v));
                } else if (TaskEndpoints.NUMERIC_FIELDS.contains(name)) {
                    try {
                        fields.set(name, json.readTree(v));
                        if (!fields.get(name).isNumber()) fields.put(name, v);
                    } catch (JacksonException notANumber) {
                        fields.put(name, v);
                    }
                } else {
                    fields.put(name, v);
                }
            });
            if (file == null) {
                String inline = fields.has("image") ? fields.get("image").asText() : null;
                if (inline == null) throw ApiException.badRequest("image", "missing image: upload it as the multipart file field 'image'");
                image = images.fromBase64(inline, "image");
            } else {
                byte[] bytes;
                try (InputStream in = file.content()) {
                    bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, options.maxBodyBytes() + 1));
                }
                if (bytes.length > options.maxBodyBytes()) throw tooLarge(-1);
                image = images.fromBytes(bytes, "image");
            }
        } else {
            JsonNode root = jsonBody(ctx);
            fields = (ObjectNode) root;
            String base64 = RequestFields.string(root, "image");
            if (base64 == null) throw ApiException.badRequest("image", "missing image: send 'image' as base64 (or a data: URI), or upload it as multipart");
            image = images.fromBase64(base64, "image");
        }
        String prompt = TaskEndpoints.prompt(task, fields);
        var generationOptions = TaskEndpoints.options(fields, prompt, g);
        if (Boolean.TRUE.equals(RequestFields.bool(fields, "stream"))) {
            RgbImage picture = image;
            streamEvents(ctx, g, List.of(image), prompt, generationOptions, admission, new StreamShape() {
                public JsonNode opening() {
                    return JsonNodeFactory.instance.objectNode().put("task", task.cliName).put("prompt", prompt);
                }

                public JsonNode piece(String text) {
                    return JsonNodeFactory.instance.objectNode().put("text", text);
                }

                public List<JsonNode> closing(GenerationResult result) {
                    ObjectNode last = JsonNodeFactory.instance.objectNode();
                    last.set("result", TaskEndpoints.json(task, prompt, result, picture, options.maskDecoder()));
                    last.set("timings", TaskEndpoints.timings(result));
                    return List.of(last);
                }
            });
            return;
        }
        Generation generation = g.submit(List.of(image), prompt, generationOptions, null);
        admission.close();
        GenerationResult output = g.await(generation);
        writeJson(ctx, TaskEndpoints.json(task, prompt, output, image, options.maskDecoder()));
    }
}
