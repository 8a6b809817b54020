package org.paligemma4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.testing.Fixtures;

/** {@code /health} tells loading from ready, {@code /metrics} speaks Prometheus, and closing ends streams cleanly. */
class HealthAndMetricsTest {

    @Test
    void healthSaysLoadingUntilTheModelIsLoadedThenReady() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (PaliGemmaServer server = PaliGemmaServer.start(ServerOptions.defaults("tiny").withPort(0), () -> {
            release.await();
            return PaliGemma.open(Fixtures.path("paligemma-tiny"));
        })) {
            TestClient client = new TestClient(server);
            TestClient.Response loading = client.get("/health");
            assertEquals(503, loading.status());
            assertEquals("loading", loading.json().get("status").asText());
            TestClient.Response api = client.post("/v1/chat/completions", TestClient.chat("caption en", "data:,"));
            assertEquals(503, api.status());
            assertEquals("loading", api.json().get("error").get("code").asText());
            release.countDown();
            server.awaitReady();
            JsonNode ready = client.get("/health").json();
            assertEquals("ready", ready.get("status").asText());
            assertEquals("tiny", ready.get("model").asText());
        }
    }

    @Test
    void aModelThatFailsToLoadIsReportedToTheCaller() {
        try (PaliGemmaServer server = PaliGemmaServer.start(ServerOptions.defaults("tiny").withPort(0), () -> {
            throw new IOException("config.json: not found");
        })) {
            IOException e = assertThrows(IOException.class, server::awaitReady);
            assertTrue(e.getMessage().contains("config.json"));
        }
    }

    @Test
    void metricsCountRequestsAndTimeTokensInPrometheusFormat() throws Exception {
        try (PaliGemma model = PaliGemma.open(Fixtures.path("paligemma-tiny"));
             PaliGemmaServer server = PaliGemmaServer.start(ServerOptions.defaults("tiny").withPort(0), model)) {
            TestClient client = new TestClient(server);
            String image = TestClient.dataUri(Fixtures.path("images", "tiny_gray.png"));
            assertEquals(200, client.post("/v1/chat/completions", TestClient.chat("caption en", image).put("max_tokens", 5)).status());
            assertEquals(400, client.post("/v1/chat/completions", "{".getBytes()).status());
            TestClient.Response r = client.get("/metrics");
            assertEquals(200, r.status());
            assertTrue(r.header("Content-Type").startsWith("text/plain"), r.header("Content-Type"));
            String m = r.body();
            for (String expected : new String[] {
                    "paligemma_requests_total{endpoint=\"chat_completions\",status=\"200\"} 1",
                    "paligemma_requests_total{endpoint=\"chat_completions\",status=\"400\"} 1",
                    "# TYPE paligemma_queue_depth gauge", "paligemma_batch_size 0",
                    "paligemma_generations_total{finish_reason=\"length\"} 1",
                    "paligemma_time_to_first_token_seconds_count 1", "paligemma_time_to_first_token_seconds_bucket{le=\"+Inf\"} 1",
                    "paligemma_time_per_output_token_seconds_count 1", "# TYPE paligemma_time_per_output_token_seconds histogram"}) {
                assertTrue(m.contains(expected), "missing '" + expected + "' in\n" + m);
            }
            assertTrue(m.contains("paligemma_prompt_tokens_total 20"), m);
            assertTrue(m.contains("paligemma_generated_tokens_total 5"), m);
        }
    }

    @Test
    void closingEndsARunningStreamWithDoneAndDoesNotHang() throws Exception {
        try (PaliGemma model = PaliGemma.open(Fixtures.path("paligemma-tiny"))) {
            PaliGemmaServer server = PaliGemmaServer.start(ServerOptions.defaults("tiny").withPort(0).withMaxNewTokens(8000), model);
            TestClient client = new TestClient(server);
            String image = TestClient.dataUri(Fixtures.path("images", "tiny_gray.png"));
            var response = new java.util.concurrent.CompletableFuture<TestClient.Response>();
            Thread.ofVirtual().start(() -> {
                try {
                    response.complete(client.post("/v1/chat/completions", TestClient.chat("caption en", image)
                            .put("max_tokens", 8000).put("stream", true)));
                } catch (Exception e) {
                    response.completeExceptionally(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (client.get("/health").json().path("active").asInt() == 0 && !response.isDone() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            long t0 = System.nanoTime();
            server.close();
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "close took too long");
            TestClient.Response r = response.get(10, TimeUnit.SECONDS);
            assertEquals(200, r.status());
            assertTrue(r.body().strip().endsWith("data: [DONE]"), r.body());
        }
    }
}
