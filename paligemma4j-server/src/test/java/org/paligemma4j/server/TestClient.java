package org.paligemma4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

/** Plain HTTP to a test server on localhost: raw bodies, any headers, the status and the parsed JSON back. */
final class TestClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;

    TestClient(PaliGemmaServer server) {
        this.base = "http://127.0.0.1:" + server.port();
    }

    record Response(int status, String body, Map<String, java.util.List<String>> headers) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + body, e);
            }
        }

        String header(String name) {
            return headers.getOrDefault(name.toLowerCase(java.util.Locale.ROOT), java.util.List.of()).stream().findFirst().orElse(null);
        }
    }

    Response get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60)).GET();
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return send(b.build());
    }

    Response post(String path, byte[] body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        boolean typed = false;
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
            typed |= headers[i].equalsIgnoreCase("Content-Type");
        }
        if (!typed) b.header("Content-Type", "application/json");
        return send(b.build());
    }

    Response post(String path, JsonNode body, String... headers) throws IOException, InterruptedException {
        return post(path, JSON.writeValueAsBytes(body), headers);
    }

    private Response send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body(), r.headers().map());
    }

    static String dataUri(Path image) throws IOException {
        String name = image.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        String type = name.endsWith(".png") ? "image/png" : name.endsWith(".jpg") || name.endsWith(".jpeg") ? "image/jpeg" : "image/*";
        return "data:" + type + ";base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(image));
    }

    /** A chat request with one user message: {@code prompt} and the images as data URIs or URLs. */
    static ObjectNode chat(String prompt, String... imageUrls) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("model", "paligemma-tiny");
        ObjectNode message = root.putArray("messages").addObject();
        message.put("role", "user");
        ArrayNode content = message.putArray("content");
        content.addObject().put("type", "text").put("text", prompt);
        for (String url : imageUrls) content.addObject().put("type", "image_url").putObject("image_url").put("url", url);
        return root;
    }
}
