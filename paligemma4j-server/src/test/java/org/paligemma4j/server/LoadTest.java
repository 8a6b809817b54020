package org.paligemma4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.TaskPrompts;
import org.paligemma4j.testing.Fixtures;

/**
 * 32 concurrent clients with mixed prompts, images, sampling settings, streaming and task endpoints against a
 * small batch and queue: every answer equals the same request run alone (nothing mixed up or lost), overflow gets
 * 429 and never a 5xx, and {@code /health} answers throughout. Bounded loops, localhost only.
 */
class LoadTest {
    static final int CLIENTS = 32, REQUESTS_PER_CLIENT = 3, MAX_TRIES = 500;

    /** One kind of request: what to ask and how; {@code kind} is chat, stream or detect (the task endpoint). */
    record Spec(String kind, String prompt, String image, int maxTokens, Double temperature, Double topP, Long seed) {
        GenerationOptions options() {
            GenerationOptions o = GenerationOptions.defaults().withMaxNewTokens(maxTokens);
            if (temperature != null && temperature > 0) o = o.withSampling(temperature, 0, topP == null ? 1.0 : topP, seed);
            return o;
        }

        ObjectNode body(String dataUri) {
            ObjectNode b;
            if (kind.equals("detect")) {
                b = TestClient.JSON.createObjectNode().put("image", dataUri).put("labels", prompt.substring("detect ".length()))
                        .put("max_new_tokens", maxTokens);
            } else {
                b = TestClient.chat(prompt, dataUri).put("max_tokens", maxTokens);
                if (kind.equals("stream")) b.put("stream", true);
            }
            if (temperature != null) b.put("temperature", temperature);
            if (topP != null) b.put("top_p", topP);
            if (seed != null) b.put("seed", seed);
            return b;
        }
    }

    static List<Spec> specs() {
        String[] images = {"shapes_text.png", "photo_like.jpg", "tiny_gray.png"};
        String[] prompts = {"caption en", "detect cat ; dog", "ocr", TaskPrompts.answer("en", "what is this?"), "segment car"};
        String[] kinds = {"chat", "stream", "detect"};
        List<Spec> specs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String kind = kinds[i % 3];
            String prompt = kind.equals("detect") ? "detect cat ; dog" : prompts[i % prompts.length];
            String image = images[i % images.length];
            int maxTokens = 8 + 5 * i;
            switch (i % 4) {
                case 0 -> specs.add(new Spec(kind, prompt, image, maxTokens, null, null, null));
                case 1 -> specs.add(new Spec(kind, prompt, image, maxTokens, 0.7, null, 100L + i));
                case 2 -> specs.add(new Spec(kind, prompt, image, maxTokens, 1.0, 0.8, 200L + i));
                default -> specs.add(new Spec(kind, prompt, image, maxTokens, 0.0, null, 300L + i));
            }
        }
        return specs;
    }

    @Test
    void concurrentClientsGetTheirOwnAnswersAndOverflowGets429() throws Exception {
        List<Spec> specs = specs();
        try (PaliGemma model = PaliGemma.open(Fixtures.path("paligemma-tiny"))) {
            List<String> expected = new ArrayList<>();
            List<String> dataUris = new ArrayList<>();
            for (Spec s : specs) {
                Path image = Fixtures.path("images", s.image());
                RgbImage picture = ImageLoader.load(image);
                GenerationResult alone = model.generate(picture, s.prompt(), s.options(), null);
                expected.add(alone.text());
                dataUris.add(TestClient.dataUri(image));
            }
            try (PaliGemmaServer server = PaliGemmaServer.start(ServerOptions.defaults("paligemma-tiny").withPort(0)
                    .withMaxBatch(4).withMaxQueue(3), model)) {
                TestClient client = new TestClient(server);
                AtomicInteger tooMany = new AtomicInteger(), served = new AtomicInteger(), healthChecks = new AtomicInteger();
                ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
                AtomicBoolean loadRunning = new AtomicBoolean(true);
                CountDownLatch go = new CountDownLatch(1);
                try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                    Future<?> health = pool.submit(() -> {
                        while (loadRunning.get() && healthChecks.get() < 100_000) {
                            TestClient.Response r = client.get("/health");
                            if (r.status() != 200) failures.add("health answered " + r.status() + ": " + r.body());
                            healthChecks.incrementAndGet();
                            Thread.sleep(5);
                        }
                        return null;
                    });
                    List<Future<?>> clients = new ArrayList<>();
                    for (int c = 0; c < CLIENTS; c++) {
                        int id = c;
                        clients.add(pool.submit(() -> {
                            go.await();
                            for (int k = 0; k < REQUESTS_PER_CLIENT; k++) {
                                int which = (id * REQUESTS_PER_CLIENT + k) % specs.size();
                                Spec s = specs.get(which);
                                String path = s.kind().equals("detect") ? "/v1/detect" : "/v1/chat/completions";
                                TestClient.Response r = null;
                                for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
                                    r = client.post(path, s.body(dataUris.get(which)));
                                    if (r.status() != 429) break;
                                    if (r.headers().get("retry-after") == null) failures.add("429 without Retry-After");
                                    tooMany.incrementAndGet();
                                    Thread.sleep(20 + (id % 13));
                                }
                                if (r.status() != 200) {
                                    failures.add(s + " -> " + r.status() + ": " + r.body());
                                    continue;
                                }
                                served.incrementAndGet();
                                String text = textOf(s, r);
                                if (!expected.get(which).equals(text)) {
                                    failures.add(s + ": expected '" + expected.get(which) + "' but got '" + text + "'");
                                }
                            }
                            return null;
                        }));
                    }
                    go.countDown();
                    for (Future<?> f : clients) f.get();
                    loadRunning.set(false);
                    health.get();
                }
                assertTrue(failures.isEmpty(), failures.size() + " failures, first: " + failures.peek());
                assertEquals(CLIENTS * REQUESTS_PER_CLIENT, served.get());
                assertTrue(tooMany.get() > 0, "32 clients against a queue of 3 should overflow");
                assertTrue(healthChecks.get() > 0);
                // Nothing a request brought (bodies, images, streams) outlives it: the heap left after the load is small.
                System.gc();
                long retained = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
                assertTrue(retained < RETAINED_HEAP_BOUND, "heap still in use after the load: " + (retained >> 20) + " MB");
                System.out.printf("load: %d requests served, %d answered 429 first, %d health checks, all 200;"
                                + " heap in use after the load %d MB; peak resident memory of the test JVM %s%n",
                        served.get(), tooMany.get(), healthChecks.get(), retained >> 20, peakResident());
                String metrics = client.get("/metrics").body();
                assertTrue(metrics.contains("paligemma_requests_total{endpoint=\"chat_completions\",status=\"429\"}")
                        || metrics.contains("paligemma_requests_total{endpoint=\"detect\",status=\"429\"}"), metrics);
                assertTrue(!metrics.contains("status=\"5"), metrics);
            }
        }
    }

    /** Heap a finished load may leave in use (the tiny model, caches, the test's own data). */
    static final long RETAINED_HEAP_BOUND = 256L << 20;

    /** VmHWM from /proc/self/status (Linux), for the log. */
    static String peakResident() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return line.substring(6).strip();
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux
        }
        return "unknown";
    }

    /** The generated text of a response: the message, the streamed deltas joined, or the task result's text. */
    static String textOf(Spec s, TestClient.Response r) throws Exception {
        return switch (s.kind()) {
            case "chat" -> r.json().get("choices").get(0).get("message").get("content").asText();
            case "detect" -> {
                JsonNode json = r.json();
                if (!(json.get("objects") instanceof ArrayNode)) throw new AssertionError("no objects: " + json);
                yield json.get("text").asText();
            }
            default -> {
                StringBuilder text = new StringBuilder();
                boolean done = false;
                for (String line : r.body().split("\n")) {
                    if (!line.startsWith("data: ")) continue;
                    String data = line.substring(6);
                    if (data.equals("[DONE]")) {
                        done = true;
                        continue;
                    }
                    JsonNode chunk = TestClient.JSON.readTree(data);
                    for (JsonNode choice : chunk.get("choices")) {
                        JsonNode content = choice.get("delta").get("content");
                        if (content != null) text.append(content.asText());
                    }
                }
                if (!done) throw new AssertionError("stream without [DONE]: " + r.body());
                yield text.toString();
            }
        };
    }
}
