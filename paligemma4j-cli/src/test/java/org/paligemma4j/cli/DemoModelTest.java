package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.scenes.Shape;

/**
 * The demo model in {@code models/shapes-demo} still answers the README's example scene ({@code docs/example.png}, a
 * scene of a seed training never used, enlarged pixel for pixel; its ground truth in {@code docs/example.json}) as the
 * README shows: the objects found with their boxes, the caption, a count, a colour and the word.
 */
class DemoModelTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path MODEL = ROOT.resolve("models").resolve("shapes-demo");
    private static final Path EXAMPLE = ROOT.resolve("docs").resolve("example.png");

    private static JsonNode truth() throws IOException {
        return JSON.readTree(ROOT.resolve("docs").resolve("example.json").toFile());
    }

    @Test
    void theDemoModelIsTheOnlyModelDirectoryAndAStrictPaliGemmaCheckpointOfAtMost8MB() throws IOException {
        try (Stream<Path> models = Files.list(ROOT.resolve("models"))) {
            assertEquals(List.of(MODEL), models.filter(Files::isDirectory).toList());
        }
        long weights = 0;
        try (Stream<Path> files = Files.list(MODEL)) {
            for (Path f : files.toList()) if (f.getFileName().toString().endsWith(".safetensors")) weights += Files.size(f);
        }
        assertTrue(weights > 0 && weights <= 8_000_000, "weights: " + weights + " bytes");
        assertEquals("paligemma", JSON.readTree(MODEL.resolve("config.json").toFile()).get("model_type").asText());
        try (PaliGemma pg = PaliGemma.open(MODEL)) { // the strict loader: every expected tensor, name and shape
            assertEquals(64, pg.model().config().numImageTokens());
        }
        CliRunner.Result inspect = CliRunner.run("inspect", "--model", MODEL.toString());
        assertEquals(0, inspect.exitCode(), inspect.err());
    }

    /**
     * The README's detect command, {@code detect <shape> ; <shape>} with the scene's first two shapes in reading order
     * (the model was trained on one or two classes per prompt): every object of those shapes found, its label right
     * and its box within IoU 0.5 of the truth, and nothing else.
     */
    @Test
    void theReadmesDetectCommandFindsEachObjectOfTheTwoShapesWithItsBox() throws IOException {
        JsonNode truth = truth();
        double scale = truth.path("scale").asDouble(1); // docs/example.png is the scene enlarged, pixel for pixel
        Set<String> shapes = new LinkedHashSet<>();
        for (JsonNode o : truth.get("objects")) shapes.add(o.get("shape").asText());
        List<String> asked = List.copyOf(shapes).subList(0, 2);
        CliRunner.Result r = CliRunner.run("detect", "--model", MODEL.toString(), EXAMPLE.toString(), String.join(" ; ", asked), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode out = JSON.readTree(r.out().substring(r.out().lastIndexOf("\n{") + 1));
        List<JsonNode> found = new ArrayList<>();
        out.get("objects").forEach(found::add);
        List<JsonNode> expected = new ArrayList<>();
        for (JsonNode o : truth.get("objects")) if (asked.contains(o.get("shape").asText())) expected.add(o);
        assertEquals(expected.size(), found.size(), out.toString());
        for (JsonNode e : expected) {
            JsonNode box = e.get("box"); // y_min, x_min, y_max, x_max in the scene's pixels
            double best = 0;
            for (JsonNode o : found) {
                if (!o.get("label").asText().equals(e.get("shape").asText())) continue;
                JsonNode b = o.get("box");
                best = Math.max(best, iou(scale * box.get(0).asDouble(), scale * box.get(1).asDouble(), scale * box.get(2).asDouble(),
                        scale * box.get(3).asDouble(), b.get("y_min").asDouble(), b.get("x_min").asDouble(), b.get("y_max").asDouble(),
                        b.get("x_max").asDouble()));
            }
            assertTrue(best >= 0.5, e + ": best IoU " + best + " in " + out);
        }
    }

    @Test
    void itCaptionsCountsNamesColoursAndReadsTheWord() throws IOException {
        JsonNode truth = truth();
        assertEquals(truth.get("caption").asText(), answer("caption en"));
        List<String> shapes = new ArrayList<>();
        for (JsonNode o : truth.get("objects")) shapes.add(o.get("shape").asText());
        String first = shapes.get(0);
        assertEquals(Long.toString(shapes.stream().filter(first::equals).count()), answer("answer en how many " + plural(first) + " are there?"));
        for (JsonNode o : truth.get("objects")) { // the colour question is asked of a shape the scene holds once
            String shape = o.get("shape").asText();
            if (shapes.stream().filter(shape::equals).count() == 1) {
                assertEquals(o.get("colour").asText(), answer("answer en what colour is the " + shape + "?"));
                break;
            }
        }
        if (!truth.get("text").isNull()) assertEquals(truth.get("text").asText(), answer("ocr"));
    }

    private static String plural(String shape) {
        for (Shape s : Shape.values()) if (s.word().equals(shape)) return s.plural();
        throw new AssertionError("docs/example.json: unknown shape " + shape);
    }

    private static String answer(String prompt) throws IOException {
        CliRunner.Result r = CliRunner.run("generate", "--model", MODEL.toString(), "--image", EXAMPLE.toString(),
                "--prompt", prompt, "--json");
        assertEquals(0, r.exitCode(), r.err());
        return JSON.readTree(r.out().strip()).get("text").asText().strip();
    }

    private static double iou(double y0, double x0, double y1, double x1, double b0, double a0, double b1, double a1) {
        double h = Math.min(y1, b1) - Math.max(y0, b0), w = Math.min(x1, a1) - Math.max(x0, a0);
        if (h <= 0 || w <= 0) return 0;
        double inter = h * w;
        return inter / ((y1 - y0) * (x1 - x0) + (b1 - b0) * (a1 - a0) - inter);
    }
}
