package org.paligemma4j.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.FinishReason;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.testing.Fixtures;

/** Continuous batching gives every request exactly what it gets alone, whatever runs beside it. */
class EngineTest {
    private static final String[] IMAGES = {"shapes_text.png", "photo_like.jpg", "tiny_gray.png"};
    private static final String[] PROMPTS = {"caption en", "detect cat ; dog", "answer en what is this?", "ocr"};

    private static List<GenerationRequest> mixedRequests(int n) throws IOException {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RgbImage image = ImageLoader.load(Fixtures.path("images", IMAGES[i % IMAGES.length]));
            GenerationOptions o = GenerationOptions.defaults().withMaxNewTokens(4 + (i * 7) % 19);
            if (i % 3 == 1) o = o.withSampling(0.7 + 0.1 * (i % 4), i % 2 == 0 ? 0 : 40, i % 4 == 1 ? 0.9 : 1.0, 1000 + i);
            if (i % 5 == 2) o = o.withTopLogprobs(3);
            requests.add(GenerationRequest.of(image, PROMPTS[i % PROMPTS.length], o));
        }
        return requests;
    }

    @ParameterizedTest
    @ValueSource(strings = {"paligemma-tiny", "paligemma2-tiny", "paligemma2-tiny-bf16"})
    void everyBatchedRequestEqualsTheSameRequestAlone(String modelName) throws Exception {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path(modelName))) {
            assertBatchedRequestsEqualTheirLoneRuns(pg);
        }
    }

    /** Over bfloat16 KV caches too: the halved cache changes what is stored, not which row gets what. */
    @ParameterizedTest
    @ValueSource(strings = {"paligemma-tiny", "paligemma2-tiny"})
    void batchedRequestsOverBf16CachesEqualTheirLoneRuns(String modelName) throws Exception {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path(modelName)).withKvCache(org.paligemma4j.model.KvCachePrecision.BFLOAT16)) {
            assertBatchedRequestsEqualTheirLoneRuns(pg);
        }
    }

    private static void assertBatchedRequestsEqualTheirLoneRuns(PaliGemma pg) throws Exception {
        List<GenerationRequest> requests = mixedRequests(12);
        List<GenerationResult> alone = new ArrayList<>();
        for (GenerationRequest r : requests) alone.add(pg.generate(r.images(), r.prompt(), r.options(), null));
        try (Engine engine = Engine.start(pg, EngineOptions.defaults().withMaxBatch(5))) {
            List<Generation> batched = new ArrayList<>();
            for (GenerationRequest r : requests) batched.add(engine.submit(r, null));
            for (int i = 0; i < requests.size(); i++) {
                GenerationResult got = batched.get(i).await();
                assertArrayEquals(alone.get(i).ids(), got.ids(), "request " + i + " (" + requests.get(i).prompt() + ")");
                assertEquals(alone.get(i).text(), got.text());
                assertEquals(alone.get(i).finishReason(), got.finishReason());
                assertEquals(alone.get(i).logprobs().size(), got.logprobs().size());
                for (int t = 0; t < got.logprobs().size(); t++) {
                    assertEquals(alone.get(i).logprobs().get(t).logprob(), got.logprobs().get(t).logprob());
                    assertArrayEquals(alone.get(i).logprobs().get(t).topIds(), got.logprobs().get(t).topIds());
                }
            }
            assertEquals(0, engine.activeCount());
        }
    }

    /** With a LoRA adapter applied at inference, batched sequences still equal their lone runs. */
    @Test
    void batchedRequestsOfAnAdaptedModelEqualTheirLoneRuns() throws Exception {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path("paligemma-tiny"),
                Fixtures.path("training", "paligemma-tiny", "answer_jpg_suffix", "lora_init"))) {
            List<GenerationRequest> requests = mixedRequests(6);
            try (Engine engine = Engine.start(pg, EngineOptions.defaults().withMaxBatch(6))) {
                List<Generation> batched = new ArrayList<>();
                for (GenerationRequest r : requests) batched.add(engine.submit(r, null));
                for (int i = 0; i < requests.size(); i++) {
                    GenerationRequest r = requests.get(i);
                    assertArrayEquals(pg.generate(r.images(), r.prompt(), r.options(), null).ids(), batched.get(i).await().ids(),
                            "request " + i);
                }
            }
        }
    }

    @Test
    void streamedTextJoinsToTheResultText() throws Exception {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path("paligemma-tiny"));
             Engine engine = Engine.start(pg, EngineOptions.defaults())) {
            StringBuilder streamed = new StringBuilder();
            List<Integer> ids = new ArrayList<>();
            GenerationRequest r = GenerationRequest.of(ImageLoader.load(Fixtures.path("images", "shapes_text.png")), "caption en",
                    GenerationOptions.defaults().withMaxNewTokens(20));
            GenerationResult result = engine.submit(r, (id, text) -> {
                ids.add(id);
                streamed.append(text);
            }).await();
            assertEquals(result.text(), streamed.toString());
            assertArrayEquals(result.ids(), ids.stream().mapToInt(Integer::intValue).toArray());
            assertEquals(FinishReason.LENGTH, result.finishReason());
        }
    }

    @Test
    void aCancelledRequestFreesItsSlotAndKeepsWhatItMade() throws Exception {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path("paligemma-tiny"));
             Engine engine = Engine.start(pg, EngineOptions.defaults().withMaxBatch(1))) {
            RgbImage image = ImageLoader.load(Fixtures.path("images", "shapes_text.png"));
            CountDownLatch firstToken = new CountDownLatch(1);
            Generation[] self = new Generation[1];
            CountDownLatch submitted = new CountDownLatch(1);
            self[0] = engine.submit(GenerationRequest.of(image, "caption en", GenerationOptions.defaults().withMaxNewTokens(500)),
                    (id, text) -> {
                        try {
                            submitted.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        self[0].cancel();
                        firstToken.countDown();
                    });
            submitted.countDown();
            GenerationResult cancelled = self[0].result().get(30, TimeUnit.SECONDS);
            assertEquals(FinishReason.CANCELLED, cancelled.finishReason());
            assertTrue(cancelled.ids().length < 500);
            // The slot is free again: a second request runs to its end.
            GenerationResult next = engine.submit(GenerationRequest.of(image, "ocr", GenerationOptions.defaults().withMaxNewTokens(3)), null)
                    .result().get(30, TimeUnit.SECONDS);
            assertEquals(3, next.ids().length);
        }
    }

    @Test
    void aFullQueueRefusesAndBadPromptsFailAtSubmission() throws Exception {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path("paligemma-tiny"));
             Engine engine = Engine.start(pg, EngineOptions.defaults().withMaxBatch(1).withMaxQueue(2))) {
            RgbImage image = ImageLoader.load(Fixtures.path("images", "shapes_text.png"));
            GenerationOptions longRun = GenerationOptions.defaults().withMaxNewTokens(200);
            List<Generation> accepted = new ArrayList<>();
            int refused = 0;
            for (int i = 0; i < 10; i++) {
                try {
                    accepted.add(engine.submit(GenerationRequest.of(image, "caption en", longRun), null));
                } catch (QueueFullException e) {
                    refused++;
                }
            }
            assertTrue(refused >= 7 && accepted.size() <= 3, "refused " + refused + ", accepted " + accepted.size());
            for (Generation g : accepted) g.cancel();
            assertThrows(IllegalArgumentException.class, () -> engine.submit(GenerationRequest.of(image, "x".repeat(40000), longRun), null));
            assertThrows(IllegalArgumentException.class,
                    () -> engine.submit(GenerationRequest.of(image, "<image><image>caption en", longRun), null));
            for (Generation g : accepted) g.result().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aRequestPastTheTimeLimitEndsWithTimeout() throws Exception {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path("paligemma-tiny"));
             Engine engine = Engine.start(pg, EngineOptions.defaults().withRequestTimeout(Duration.ofMillis(1)))) {
            RgbImage image = ImageLoader.load(Fixtures.path("images", "shapes_text.png"));
            GenerationResult r = engine.submit(GenerationRequest.of(image, "caption en",
                    GenerationOptions.defaults().withMaxNewTokens(200)), (id, t) -> sleep()).await();
            assertEquals(FinishReason.TIMEOUT, r.finishReason());
        }
    }

    @Test
    void closingEndsRunningGenerationsWithShutdown() throws Exception {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path("paligemma-tiny"))) {
            Engine engine = Engine.start(pg, EngineOptions.defaults());
            RgbImage image = ImageLoader.load(Fixtures.path("images", "shapes_text.png"));
            CountDownLatch started = new CountDownLatch(1);
            Generation g = engine.submit(GenerationRequest.of(image, "caption en", GenerationOptions.defaults().withMaxNewTokens(400)),
                    (id, t) -> {
                        started.countDown();
                        sleep();
                    });
            assertTrue(started.await(30, TimeUnit.SECONDS));
            engine.close();
            assertEquals(FinishReason.SHUTDOWN, g.result().get(30, TimeUnit.SECONDS).finishReason());
            assertThrows(IllegalStateException.class, () -> engine.submit(GenerationRequest.of(image, "ocr", GenerationOptions.defaults()), null));
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
