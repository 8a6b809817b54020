package org.paligemma4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.testing.Fixtures;

/**
 * What a hostile or careless client can send: each case gets its status code and an OpenAI error object naming
 * the problem (never a stack trace or a 5xx), and the server stays healthy and keeps answering.
 */
class AbuseTest {
    static final String KEY = "abuse-key";
    static PaliGemma model;
    static PaliGemmaServer server;
    static TestClient client;
    static String image;

    @TempDir
    static Path allowed;

    @BeforeAll
    static void start() throws Exception {
        model = PaliGemma.open(Fixtures.path("paligemma-tiny"));
        Files.copy(Fixtures.path("images", "tiny_gray.png"), allowed.resolve("gray.png"));
        server = PaliGemmaServer.start(ServerOptions.defaults("paligemma-tiny").withPort(0).withApiKey(KEY)
                .withMaxBodyBytes(256 * 1024).withMaxImagePixels(1_000_000).withMaxNewTokens(4000).withAllowFiles(allowed), model);
        client = new TestClient(server);
        image = TestClient.dataUri(Fixtures.path("images", "shapes_text.png"));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (model != null) model.close();
    }

    /** After every case: the server answers health and a normal request. */
    @AfterEach
    void serverStaysHealthy() throws Exception {
        assertEquals(200, client.get("/health").status());
        ObjectNode ok = TestClient.chat("caption en", image).put("max_tokens", 3);
        assertEquals(200, post(ok).status());
    }

    static TestClient.Response post(JsonNode body) throws Exception {
        return client.post("/v1/chat/completions", body, "Authorization", "Bearer " + KEY);
    }

    static TestClient.Response post(byte[] body) throws Exception {
        return client.post("/v1/chat/completions", body, "Authorization", "Bearer " + KEY);
    }

    /** The status, an OpenAI error object with a message, and no Java internals in it. */
    static JsonNode assertError(int status, TestClient.Response r) {
        assertEquals(status, r.status(), r.body());
        JsonNode error = r.json().get("error");
        assertNotNull(error, r.body());
        assertTrue(error.get("message").isTextual() && !error.get("message").asText().isBlank(), r.body());
        assertTrue(error.has("type") && error.has("param") && error.has("code"), r.body());
        assertFalse(r.body().contains("Exception") || r.body().contains("\tat ") || r.body().contains("java."), r.body());
        return error;
    }

    @Test
    void missingKeyIs401() throws Exception {
        TestClient.Response r = client.post("/v1/chat/completions", TestClient.chat("caption en", image));
        assertEquals("invalid_api_key", assertError(401, r).get("code").asText());
    }

    @Test
    void wrongKeyIs401() throws Exception {
        TestClient.Response r = client.post("/v1/chat/completions", TestClient.chat("caption en", image), "Authorization", "Bearer nope");
        assertError(401, r);
        assertError(401, client.get("/v1/models", "Authorization", "Basic " + KEY));
    }

    @Test
    void oversizedBodyIs413() throws Exception {
        byte[] big = new byte[300 * 1024];
        Arrays.fill(big, (byte) 'a');
        ObjectNode body = TestClient.chat("caption en", "data:image/png;base64," + new String(big, StandardCharsets.US_ASCII));
        assertError(413, post(body));
    }

    @Test
    void decompressionBombIs400() throws Exception {
        JsonNode error = assertError(400, post(TestClient.chat("caption en", "data:image/png;base64,"
                + Base64.getEncoder().encodeToString(pngHeaderClaiming(100_000, 100_000)))));
        assertTrue(error.get("message").asText().contains("pixels"), error.toString());
    }

    @Test
    void truncatedImageIs400() throws Exception {
        byte[] png = Files.readAllBytes(Fixtures.path("images", "shapes_text.png"));
        byte[] half = Arrays.copyOf(png, png.length / 2);
        assertEquals("invalid_image", assertError(400, post(TestClient.chat("caption en",
                "data:image/png;base64," + Base64.getEncoder().encodeToString(half)))).get("code").asText());
    }

    @Test
    void notAnImageIs400() throws Exception {
        assertError(400, post(TestClient.chat("caption en", "data:image/png;base64,"
                + Base64.getEncoder().encodeToString("hello, not an image".getBytes(StandardCharsets.UTF_8)))));
        assertError(400, post(TestClient.chat("caption en", "data:image/png;base64,@@@not base64@@@")));
    }

    @Test
    void nonJsonIs400() throws Exception {
        assertEquals("invalid_json", assertError(400, post("{\"messages\": [".getBytes(StandardCharsets.UTF_8))).get("code").asText());
        assertError(400, post("caption en please".getBytes(StandardCharsets.UTF_8)));
        assertError(400, post("[1, 2, 3]".getBytes(StandardCharsets.UTF_8)));
        assertError(400, post(new byte[0]));
    }

    @Test
    void fieldsOfTheWrongTypeAre400NamingTheField() throws Exception {
        assertEquals("max_tokens", assertError(400, post(TestClient.chat("caption en", image).put("max_tokens", "ten"))).get("param").asText());
        assertEquals("temperature", assertError(400, post(TestClient.chat("caption en", image).put("temperature", "hot"))).get("param").asText());
        assertEquals("stream", assertError(400, post(TestClient.chat("caption en", image).put("stream", "yes"))).get("param").asText());
        assertEquals("seed", assertError(400, post(TestClient.chat("caption en", image).put("seed", 1.5))).get("param").asText());
        assertEquals("top_p", assertError(400, post(TestClient.chat("caption en", image).put("top_p", 7))).get("param").asText());
        ObjectNode stop = TestClient.chat("caption en", image);
        stop.putArray("stop").add(1);
        assertEquals("stop", assertError(400, post(stop)).get("param").asText());
        ObjectNode messages = TestClient.chat("caption en", image);
        messages.put("messages", "caption en");
        assertEquals("messages", assertError(400, post(messages)).get("param").asText());
        ObjectNode content = TestClient.chat("caption en", image);
        ((ObjectNode) content.get("messages").get(0)).put("content", 42);
        assertError(400, post(content));
    }

    @Test
    void severalChoicesAre400() throws Exception {
        JsonNode error = assertError(400, post(TestClient.chat("caption en", image).put("n", 3)));
        assertEquals("n", error.get("param").asText());
    }

    @Test
    void aSystemMessageOrSeveralTurnsAre400SayingWhy() throws Exception {
        ObjectNode system = TestClient.chat("caption en", image);
        ((com.fasterxml.jackson.databind.node.ArrayNode) system.get("messages")).insertObject(0).put("role", "system").put("content", "be nice");
        assertTrue(assertError(400, post(system)).get("message").asText().contains("not a chat model"));
        ObjectNode turns = TestClient.chat("caption en", image);
        ((com.fasterxml.jackson.databind.node.ArrayNode) turns.get("messages")).addObject().put("role", "assistant").put("content", "a cat");
        assertTrue(assertError(400, post(turns)).get("message").asText().contains("not a chat model"));
    }

    @Test
    void aHundredThousandTokenPromptIs400() throws Exception {
        assertEquals("context_length_exceeded",
                assertError(400, post(TestClient.chat("a ".repeat(100_000).strip(), image))).get("code").asText());
    }

    @Test
    void tooManyNewTokensIs400() throws Exception {
        assertEquals("max_tokens", assertError(400, post(TestClient.chat("caption en", image).put("max_tokens", 1_000_000))).get("param").asText());
    }

    @Test
    void missingImageIs400() throws Exception {
        assertError(400, post(TestClient.chat("caption en")));
        ObjectNode text = TestClient.chat("caption en");
        ((ObjectNode) text.get("messages").get(0)).put("content", "caption en");
        assertTrue(assertError(400, post(text)).get("message").asText().contains("image"));
    }

    @Test
    void networkImageUrlsAreRefusedNotFetched() throws Exception {
        JsonNode error = assertError(400, post(TestClient.chat("caption en", "http://127.0.0.1:1/cat.png")));
        assertTrue(error.get("message").asText().contains("not fetched"), error.toString());
        assertError(400, post(TestClient.chat("caption en", "https://example.invalid/cat.png")));
    }

    @Test
    void fileUrlsOnlyUnderTheAllowedFolder() throws Exception {
        assertEquals(200, post(TestClient.chat("caption en", allowed.resolve("gray.png").toUri().toString()).put("max_tokens", 2)).status());
        assertError(400, post(TestClient.chat("caption en", Fixtures.path("images", "tiny_gray.png").toUri().toString())));
        assertError(400, post(TestClient.chat("caption en", allowed.resolve("../../etc/passwd").toUri().toString())));
        assertError(400, post(TestClient.chat("caption en", allowed.resolve("missing.png").toUri().toString())));
    }

    @Test
    void unknownPathsAre404InTheErrorShape() throws Exception {
        assertError(404, client.get("/v1/nothing-here"));
    }

    @Test
    void aClientThatDisconnectsMidStreamFreesItsSlot() throws Exception {
        long before = cancelledCount();
        ObjectNode body = TestClient.chat("caption en", image).put("stream", true).put("max_tokens", 4000);
        byte[] json = TestClient.JSON.writeValueAsBytes(body);
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + json.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(json);
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            while (!seen.toString(StandardCharsets.UTF_8).contains("\"content\":\"")) {
                int b = in.read();
                assertTrue(b >= 0, "the stream ended before any token: " + seen);
                seen.write(b);
            }
        }
        // The write after the disconnect fails, the generation is cancelled and its slot freed.
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (cancelledCount() == before && System.nanoTime() < deadline) Thread.sleep(20);
        assertEquals(before + 1, cancelledCount(), "the disconnected stream's generation should end as cancelled");
        JsonNode health = client.get("/health").json();
        assertEquals(0, health.get("active").asInt(), health.toString());
    }

    @Test
    void aFullQueueIs429WithRetryAfter() throws Exception {
        try (PaliGemmaServer busy = PaliGemmaServer.start(ServerOptions.defaults("paligemma-tiny").withPort(0).withMaxQueue(0), model)) {
            TestClient c = new TestClient(busy);
            TestClient.Response r = c.post("/v1/chat/completions", TestClient.chat("caption en", image));
            assertEquals("queue_full", assertError(429, r).get("code").asText());
            assertNotNull(r.header("Retry-After"), r.headers().toString());
            assertEquals(429, c.post("/v1/caption", TestClient.JSON.createObjectNode().put("image", image)).status());
            assertEquals(200, c.get("/health").status());
        }
    }

    @Test
    void aRequestPastTheTimeLimitEndsWithWhatItHas() throws Exception {
        try (PaliGemmaServer slow = PaliGemmaServer.start(ServerOptions.defaults("paligemma-tiny").withPort(0).withMaxNewTokens(8000)
                .withRequestTimeout(java.time.Duration.ofMillis(30)), model)) {
            TestClient c = new TestClient(slow);
            TestClient.Response r = c.post("/v1/chat/completions", TestClient.chat("caption en", image).put("max_tokens", 8000));
            assertEquals(200, r.status(), r.body());
            JsonNode json = r.json();
            assertEquals("length", json.get("choices").get(0).get("finish_reason").asText());
            assertTrue(json.get("usage").get("completion_tokens").asInt() < 8000, r.body());
        }
    }

    static long cancelledCount() throws Exception {
        String metrics = client.get("/metrics", "Authorization", "Bearer " + KEY).body();
        for (String line : metrics.split("\n")) {
            if (line.startsWith("paligemma_generations_total{finish_reason=\"cancelled\"}")) return Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
        }
        return 0;
    }

    /** A PNG that is only a signature and an IHDR chunk claiming {@code width x height} RGB pixels. */
    static byte[] pngHeaderClaiming(int width, int height) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(17);
        ihdr.put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        out.write(ByteBuffer.allocate(4).putInt(13).array());
        out.write(ihdr.array());
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        return out.toByteArray();
    }
}
