package org.paligemma4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.engine.Engine;
import org.paligemma4j.engine.EngineOptions;
import org.paligemma4j.engine.GenerationRequest;
import org.paligemma4j.engine.QueueFullException;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.image.VideoFrames;

/**
 * {@code generate --requests FILE.jsonl}: one request per line, run through the batched engine (the server's),
 * one result line per request in the input order. A line is
 * {@code {"image": "a.jpg" | "images": ["a.jpg", "b.jpg"] | "video": "clip.mp4", "frames": 8, "prompt": "caption en",
 * "max_new_tokens", "temperature", "top_k", "top_p", "seed", "stop": "…" | ["…"], "logprobs": K}}; paths are
 * absolute or relative to the file's folder, and the command line's options are the defaults. A line that cannot
 * run prints {@code {"error": "line N: …"}} in its place; the exit code is then 1.
 */
final class BatchRequests {
    private static final Set<String> FIELDS = Set.of("image", "images", "video", "frames", "prompt", "max_new_tokens",
            "temperature", "top_k", "top_p", "seed", "stop", "logprobs");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ModelSession session;
    private final Path file;
    private final GenerationOptions defaults;
    private final int maxBatch;

    /** One output line: the JSON, whether the request failed, and how many tokens it generated. */
    private record Line(String json, boolean failed, int tokens) {}

    BatchRequests(ModelSession session, Path file, GenerationOptions defaults, int maxBatch) {
        this.session = session;
        this.file = file;
        this.defaults = defaults;
        this.maxBatch = maxBatch;
    }

    int run() throws IOException {
        if (!Files.isRegularFile(file)) throw new CliException(file + ": no such file");
        PaliGemma pg = session.model();
        long t0 = System.nanoTime();
        // Results are printed in input order by this thread while the engine finishes them in any order; the bounded
        // queue keeps only a few requests' images in memory however long the file is.
        BlockingQueue<CompletableFuture<Line>> inOrder = new ArrayBlockingQueue<>(4 * maxBatch);
        int[] counts = new int[3]; // requests, failures, generated tokens
        Thread printer = Thread.ofPlatform().name("requests-output").start(() -> print(inOrder, counts));
        try (Engine engine = Engine.start(pg, EngineOptions.defaults().withMaxBatch(maxBatch).withMaxQueue(2 * maxBatch));
             BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) continue;
                put(inOrder, submit(engine, line, number));
            }
            put(inOrder, CompletableFuture.completedFuture(null)); // end of input
            printer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (session.verbose() || counts[1] > 0) {
            System.err.printf(Locale.ROOT, "%d requests in %.2f s (%d failed), %d tokens generated (%.1f tok/s), image features cached: %d of %d lookups%n",
                    counts[0], seconds, counts[1], counts[2], counts[2] / seconds, pg.featureCache().hits(),
                    pg.featureCache().hits() + pg.featureCache().misses());
        }
        return counts[1] == 0 ? 0 : 1;
    }

    /** The request of one line, submitted: its future result line (an error line when it cannot run). */
    private CompletableFuture<Line> submit(Engine engine, String line, int number) throws InterruptedException {
        GenerationRequest request;
        try {
            request = parse(line);
        } catch (IOException | IllegalArgumentException | CliException e) {
            return CompletableFuture.completedFuture(error(number, e.getMessage()));
        }
        while (true) {
            try {
                return engine.submit(request, null).result().handle((result, failure) -> failure == null
                        ? resultLine(number, result) : error(number, failure.getCause() == null ? failure.getMessage()
                        : failure.getCause().getMessage()));
            } catch (QueueFullException busy) {
                Thread.sleep(5);
            } catch (IllegalArgumentException e) {
                return CompletableFuture.completedFuture(error(number, e.getMessage()));
            }
        }
    }

    private GenerationRequest parse(String line) throws IOException {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON (" + e.getOriginalMessage() + ")");
        }
        if (node == null || !node.isObject()) throw new IllegalArgumentException("a request must be a JSON object");
        for (var names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) throw new IllegalArgumentException("unknown field \"" + name + "\" (fields: " + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
        }
        String prompt = text(node, "prompt");
        if (prompt == null) throw new IllegalArgumentException("missing \"prompt\"");
        List<RgbImage> images = new ArrayList<>();
        if (node.has("image")) images.add(ImageLoader.load(resolve(text(node, "image"))));
        if (node.has("images")) {
            if (!node.get("images").isArray()) throw new IllegalArgumentException("\"images\" must be an array of paths");
            for (JsonNode p : node.get("images")) {
                if (!p.isTextual()) throw new IllegalArgumentException("\"images\" must be an array of paths");
                images.add(ImageLoader.load(resolve(p.asText())));
            }
        }
        if (node.has("video")) images.addAll(VideoFrames.sample(resolve(text(node, "video")), integer(node, "frames", 8)));
        if (images.isEmpty()) throw new IllegalArgumentException("missing \"image\" (or \"images\", \"video\")");

        GenerationOptions o = defaults.withMaxNewTokens(integer(node, "max_new_tokens", defaults.maxNewTokens()));
        if (node.has("temperature") || node.has("top_k") || node.has("top_p")) {
            o = o.withSampling(number(node, "temperature", o.doSample() ? o.temperature() : 1.0), integer(node, "top_k", o.topK()),
                    number(node, "top_p", o.topP()), seed(node, o.seed()));
        } else if (node.has("seed") && o.doSample()) {
            o = o.withSampling(o.temperature(), o.topK(), o.topP(), seed(node, o.seed()));
        }
        if (node.has("stop")) {
            JsonNode stop = node.get("stop");
            List<String> stops = new ArrayList<>();
            if (stop.isTextual()) stops.add(stop.asText());
            else if (stop.isArray()) for (JsonNode s : stop) stops.add(s.asText());
            else throw new IllegalArgumentException("\"stop\" must be a string or an array of strings");
            o = o.withStopStrings(stops);
        }
        if (node.has("logprobs")) o = o.withTopLogprobs(integer(node, "logprobs", -1));
        return new GenerationRequest(images, prompt, o);
    }

    private Path resolve(String path) {
        Path p = Path.of(path);
        return p.isAbsolute() ? p : file.toAbsolutePath().getParent().resolve(p);
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new IllegalArgumentException("\"" + field + "\" must be a string");
        return v.asText();
    }

    private static int integer(JsonNode node, String field, int fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.canConvertToInt() || !v.isIntegralNumber()) throw new IllegalArgumentException("\"" + field + "\" must be an integer");
        return v.asInt();
    }

    private static long seed(JsonNode node, long fallback) {
        JsonNode v = node.get("seed");
        if (v == null || v.isNull()) return fallback;
        if (!v.canConvertToLong() || !v.isIntegralNumber()) throw new IllegalArgumentException("\"seed\" must be an integer");
        return v.asLong();
    }

    private static double number(JsonNode node, String field, double fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.isNumber()) throw new IllegalArgumentException("\"" + field + "\" must be a number");
        return v.asDouble();
    }

    private Line resultLine(int number, GenerationResult result) {
        if (session.verbose()) {
            var t = result.timings();
            System.err.printf(Locale.ROOT, "line %d: queued %.2f s | image encode %.2f s%s | prefill %.2f s for %d tokens | %d tokens%n",
                    number, t.queueSeconds(), t.imageSeconds(), t.imageCached() ? " (features cached)" : "", t.prefillSeconds(),
                    result.promptTokens(), result.ids().length);
        }
        return new Line(GenerateCommand.resultJson(session.model(), result), false, result.ids().length);
    }

    private static Line error(int number, String message) {
        return new Line("{\"error\":\"line " + number + ": " + Json.escape(message == null ? "failed" : message) + "\"}", true, 0);
    }

    private void print(BlockingQueue<CompletableFuture<Line>> inOrder, int[] counts) {
        try {
            while (true) {
                Line line = inOrder.take().join();
                if (line == null) return;
                counts[0]++;
                if (line.failed()) counts[1]++;
                counts[2] += line.tokens();
                session.out().println(line.json());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static <T> void put(BlockingQueue<T> queue, T item) throws InterruptedException {
        queue.put(item);
    }
}
