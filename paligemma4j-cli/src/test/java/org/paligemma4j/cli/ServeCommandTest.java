package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.server.PaliGemmaServer;
import org.paligemma4j.server.ServerOptions;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.testing.Fixtures;

/**
 * {@code paligemma serve}: the typed task endpoints answer exactly what {@code paligemma <task> --json} prints
 * (less the image path an upload does not have), and the command started as a real process prints its URL,
 * serves, and stops cleanly on SIGTERM.
 */
class ServeCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MODEL = Fixtures.path("paligemma-tiny").toString();
    static final String VAE = Fixtures.path("segmentation", "vae-oid.random.npz").toString();
    static PaliGemma model;
    static PaliGemmaServer server;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws IOException {
        model = PaliGemma.open(Path.of(MODEL));
        server = PaliGemmaServer.start(ServerOptions.defaults("paligemma-tiny").withPort(0)
                .withMaskDecoder(MaskDecoder.load(Path.of(VAE))), model);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (model != null) model.close();
    }

    static Stream<Arguments> tasks() {
        String shapes = Fixtures.path("images", "shapes_text.png").toString();
        String photo = Fixtures.path("images", "photo_like.jpg").toString();
        return Stream.of(
                Arguments.of("caption", List.of(shapes, "--lang", "de"), "caption", fields("language", "de"), false),
                Arguments.of("ask", List.of(photo, "what is this?"), "answer", fields("question", "what is this?"), true),
                Arguments.of("ocr", List.of(shapes, "--max-new-tokens", "20"), "ocr", fields("max_new_tokens", "20"), false),
                Arguments.of("detect", List.of(photo, "cat ; dog", "--max-new-tokens", "40"), "detect",
                        fields("labels", "cat ; dog", "max_new_tokens", "40"), true),
                Arguments.of("detect", List.of(shapes, "house", "--temperature", "0.9", "--seed", "5"), "detect",
                        fields("labels", "house", "temperature", "0.9", "seed", "5"), false),
                Arguments.of("segment", List.of(shapes, "house", "--vae", VAE), "segment", fields("labels", "house"), true));
    }

    static List<String> fields(String... kv) {
        return List.of(kv);
    }

    @ParameterizedTest(name = "{0} {1} as {2}, multipart {4}")
    @MethodSource("tasks")
    void taskEndpointsAnswerWhatTheCliPrintsWithJson(String command, List<String> args, String endpoint, List<String> fields,
                                                     boolean multipart) throws Exception {
        List<String> cli = new ArrayList<>(List.of(command, "--model", MODEL, "--json"));
        cli.addAll(args);
        CliRunner.Result r = CliRunner.run(cli.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        ObjectNode expected = (ObjectNode) JSON.readTree(r.out());
        ((ObjectNode) expected.get("image")).remove("path");

        Path image = Path.of(args.getFirst());
        HttpResponse<String> response = multipart ? postMultipart(endpoint, image, fields) : postJson(endpoint, image, fields);
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(expected, JSON.readTree(response.body()));
    }

    static HttpResponse<String> postJson(String endpoint, Path image, List<String> fields) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("image", Base64.getEncoder().encodeToString(Files.readAllBytes(image)));
        for (int i = 0; i < fields.size(); i += 2) {
            String v = fields.get(i + 1);
            if (v.matches("-?[0-9.]+")) body.set(fields.get(i), JSON.readTree(v));
            else body.put(fields.get(i), v);
        }
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/" + endpoint))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> postMultipart(String endpoint, Path image, List<String> fields) throws Exception {
        String boundary = "----paligemma" + UUID.randomUUID();
        var body = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < fields.size(); i += 2) {
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + fields.get(i) + "\"\r\n\r\n"
                    + fields.get(i + 1) + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + image.getFileName()
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(image));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/" + endpoint))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void serveAsAProcessPrintsItsUrlServesAndStopsOnSigterm() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--model", MODEL, "--port", "0",
                "--max-batch", "2", "--api-key", "k").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertNotNull(line, "serve printed nothing");
            Matcher m = Pattern.compile("ready at (http://127\\.0\\.0\\.1:\\d+/)").matcher(line);
            assertTrue(m.find(), line);
            String url = m.group(1);
            HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(URI.create(url + "health")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            HttpResponse<String> models = HTTP.send(HttpRequest.newBuilder(URI.create(url + "v1/models")).header("Authorization", "Bearer k")
                    .build(), HttpResponse.BodyHandlers.ofString());
            JsonNode list = JSON.readTree(models.body());
            assertEquals("paligemma-tiny", list.get("data").get(0).get("id").asText());
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "serve did not stop on SIGTERM");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void badServeArgumentsFailBeforeListening() {
        CliRunner.Result r = CliRunner.run("serve", "--model", MODEL, "--quant", "q3");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--quant"), r.err());
        r = CliRunner.run("serve", "--model", MODEL, "--kv-cache", "f16");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--kv-cache"), r.err());
        r = CliRunner.run("serve", "--model", MODEL, "--allow-files", "/definitely/not/here");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--allow-files"), r.err());
    }
}
