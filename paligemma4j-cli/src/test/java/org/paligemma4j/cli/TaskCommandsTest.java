package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.paligemma4j.testing.JsonArrays.ints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.testing.Fixtures;

/**
 * caption, ask, ocr, detect and segment run end to end on the tiny fixture models, as a user runs them. The
 * random weights write gibberish, but deterministic gibberish: "detect house" on shapes_text.png gives two valid
 * boxes and an inverted one with paligemma-tiny.
 */
class TaskCommandsTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String MODEL = Fixtures.path("paligemma-tiny").toString();
    private static final String MODEL2 = Fixtures.path("paligemma2-tiny").toString();
    private static final String SHAPES = Fixtures.path("images", "shapes_text.png").toString();
    private static final String PHOTO = Fixtures.path("images", "photo_like.jpg").toString();
    private static final List<String> COMMON_FIELDS = List.of("task", "prompt", "image", "text", "ids", "stopped_on_eos");
    private static final List<String> OBJECT_FIELDS = List.of("label", "loc", "seg", "box", "valid");

    private static JsonNode json(CliRunner.Result r) throws IOException {
        assertEquals(0, r.exitCode(), r.err());
        return MAPPER.readTree(r.out());
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** What the raw generate command answers for the same prompt. */
    private static JsonNode generate(String model, String image, String prompt, String maxNewTokens) throws IOException {
        return json(CliRunner.run("generate", "--model", model, "--image", image, "--prompt", prompt,
                "--max-new-tokens", maxNewTokens, "--json"));
    }

    static Stream<Arguments> textTasks() {
        return Stream.of(
                Arguments.of(List.of("caption"), "caption en"),
                Arguments.of(List.of("caption", "--lang", "de"), "caption de"),
                Arguments.of(List.of("ask", "what is in the picture?"), "answer en what is in the picture?"),
                Arguments.of(List.of("ask", "  wo ist der Kreis? ", "--lang", "de"), "answer de wo ist der Kreis?"),
                Arguments.of(List.of("ocr"), "ocr"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("textTasks")
    void textTaskJsonHasTheSchemaAndTheIdsOfItsRawPrompt(List<String> args, String prompt) throws IOException {
        for (String model : List.of(MODEL, MODEL2)) {
            List<String> argv = new ArrayList<>(List.of(args.getFirst(), "--model", model, SHAPES));
            argv.addAll(args.subList(1, args.size()));
            argv.addAll(List.of("--max-new-tokens", "12", "--json"));
            JsonNode out = json(CliRunner.run(argv.toArray(String[]::new)));
            assertEquals(COMMON_FIELDS, fieldNames(out));
            assertEquals(args.getFirst(), out.get("task").asText());
            assertEquals(prompt, out.get("prompt").asText());
            assertEquals("{\"path\":" + MAPPER.writeValueAsString(SHAPES) + ",\"width\":200,\"height\":150}", out.get("image").toString());
            JsonNode raw = generate(model, SHAPES, prompt, "12");
            assertArrayEquals(ints(raw.get("ids")), ints(out.get("ids")), prompt);
            assertEquals(raw.get("text").asText(), out.get("text").asText());
            assertEquals(12, out.get("ids").size());
            assertFalse(out.get("stopped_on_eos").asBoolean());
        }
    }

    @Test
    void textTasksStreamTheTextTheyPrintInJson() throws IOException {
        for (String command : List.of("caption", "ocr")) {
            JsonNode json = json(CliRunner.run(command, "--model", MODEL2, PHOTO, "--max-new-tokens", "20", "--json"));
            CliRunner.Result text = CliRunner.run(command, "--model", MODEL2, PHOTO, "--max-new-tokens", "20");
            assertEquals(0, text.exitCode(), text.err());
            assertEquals(json.get("text").asText() + "\n", text.out());
            assertEquals("", text.err().replace("WARNING: Using incubator modules: jdk.incubator.vector\n", ""));
        }
    }

    @Test
    void samplingOptionsReachTheModelAndAreReproducible() throws IOException {
        String[] args = {"caption", "--model", MODEL2, PHOTO, "--max-new-tokens", "12", "--temperature", "0.9", "--top-k", "40",
                "--seed", "7", "--json"};
        JsonNode a = json(CliRunner.run(args));
        assertEquals(a, json(CliRunner.run(args)));
        JsonNode greedy = json(CliRunner.run("caption", "--model", MODEL2, PHOTO, "--max-new-tokens", "12", "--json"));
        assertFalse(a.get("ids").equals(greedy.get("ids")), "sampling gave the greedy ids");
    }

    @Test
    void detectJsonListsTheObjectsExactlyAsDecodeOutputParsesTheText() throws IOException {
        JsonNode out = json(CliRunner.run("detect", "--model", MODEL, SHAPES, "house", "--json"));
        List<String> fields = new ArrayList<>(COMMON_FIELDS);
        fields.add("objects");
        assertEquals(fields, fieldNames(out));
        assertEquals("detect house", out.get("prompt").asText());
        JsonNode objects = out.get("objects");
        for (JsonNode o : objects) {
            assertEquals(OBJECT_FIELDS, fieldNames(o));
            assertEquals(List.of("x_min", "y_min", "x_max", "y_max"), fieldNames(o.get("box")));
        }
        JsonNode decoded = json(CliRunner.run("decode-output", "--text", out.get("text").asText(), "--width", "200",
                "--height", "150", "--json"));
        assertEquals(decoded.get("objects"), objects);
        assertEquals(3, objects.size());
        assertEquals("{\"x_min\":54,\"y_min\":40,\"x_max\":116,\"y_max\":69}", objects.get(0).get("box").toString());
        assertEquals("[273,280,471,597]", objects.get(0).get("loc").toString());
        assertTrue(objects.get(0).get("valid").asBoolean());
        assertFalse(objects.get(1).get("valid").asBoolean());
        assertTrue(objects.get(2).get("valid").asBoolean());
    }

    @Test
    void detectStreamsTheRawOutputThenListsTheObjects() throws IOException {
        JsonNode json = json(CliRunner.run("detect", "--model", MODEL, SHAPES, "house", "--json"));
        CliRunner.Result r = CliRunner.run("detect", "--model", MODEL, SHAPES, "house");
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(json.get("text").asText(), lines.get(0));
        assertEquals("3 objects on a 200x150 image", lines.get(1));
        assertEquals("#0  (no label)       x 54..116  y 40..69 px  loc [273, 280, 471, 597]  no mask  valid", lines.get(2));
        assertTrue(lines.get(3).startsWith("#1  'cir'") && lines.get(3).endsWith("INVALID (box not ordered: needs y2 > y1 and x2 > x1)"),
                lines.get(3));
        assertEquals(5, lines.size());
    }

    @Test
    void detectDrawWritesTheOriginalImageWithTheBoxesWhereTheJsonSaysTheyAre(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("boxes.png");
        JsonNode out = json(CliRunner.run("detect", "--model", MODEL, SHAPES, "house", "--draw", png.toString(), "--json"));
        assertEquals(png.toString(), out.get("drawing").asText());
        BufferedImage drawn = ImageIO.read(png.toFile());
        RgbImage original = ImageLoader.load(Path.of(SHAPES));
        assertEquals(original.width(), drawn.getWidth());
        assertEquals(original.height(), drawn.getHeight());
        int colour = DetectionPainter.colour(0).getRGB() & 0xffffff; // both valid boxes are unlabelled: one colour
        int lowestBox = 0;
        for (JsonNode o : out.get("objects")) {
            if (!o.get("valid").asBoolean()) continue;
            JsonNode b = o.get("box");
            int x0 = b.get("x_min").asInt(), y0 = b.get("y_min").asInt(), x1 = b.get("x_max").asInt() - 1, y1 = b.get("y_max").asInt() - 1;
            for (int x = x0; x <= x1; x++) {
                assertEquals(colour, drawn.getRGB(x, y0) & 0xffffff, "top edge " + x);
                assertEquals(colour, drawn.getRGB(x, y1) & 0xffffff, "bottom edge " + x);
            }
            for (int y = y0; y <= y1; y++) {
                assertEquals(colour, drawn.getRGB(x0, y) & 0xffffff, "left edge " + y);
                assertEquals(colour, drawn.getRGB(x1, y) & 0xffffff, "right edge " + y);
            }
            lowestBox = Math.max(lowestBox, y1 + 1);
        }
        // Below every box (and tag) the picture is the original, pixel for pixel.
        for (int y = lowestBox; y < original.height(); y++) {
            for (int x = 0; x < original.width(); x++) {
                int want = original.get(x, y, 0) << 16 | original.get(x, y, 1) << 8 | original.get(x, y, 2);
                assertEquals(want, drawn.getRGB(x, y) & 0xffffff, "pixel " + x + "," + y);
            }
        }
        CliRunner.Result text = CliRunner.run("detect", "--model", MODEL, SHAPES, "house", "--draw", png.toString());
        assertTrue(text.out().contains("drew 2 objects on " + png), text.out());
    }

    @Test
    void segmentWithoutVaeListsBoxesWithNullMasks() throws IOException {
        JsonNode out = json(CliRunner.run("segment", "--model", MODEL, SHAPES, "house ; cat", "--json"));
        assertEquals("segment house ; cat", out.get("prompt").asText());
        List<String> fields = new ArrayList<>(COMMON_FIELDS);
        fields.addAll(List.of("objects", "masks_decoded"));
        assertEquals(fields, fieldNames(out), "no note: the output has no seg tokens waiting for a decoder");
        assertFalse(out.get("masks_decoded").asBoolean());
        List<String> objectFields = new ArrayList<>(OBJECT_FIELDS);
        objectFields.add("mask");
        assertFalse(out.get("objects").isEmpty());
        for (JsonNode o : out.get("objects")) {
            assertEquals(objectFields, fieldNames(o));
            assertTrue(o.get("mask").isNull());
        }
        JsonNode decoded = json(CliRunner.run("decode-output", "--text", out.get("text").asText(), "--width", "200",
                "--height", "150", "--json"));
        assertEquals(decoded.get("objects").size(), out.get("objects").size());
    }

    @Test
    void segmentWithVaeSaysMasksWereDecoded(@TempDir Path dir) throws IOException {
        String vae = Fixtures.path("segmentation", "vae-oid.random.npz").toString();
        Path png = dir.resolve("seg.png");
        JsonNode out = json(CliRunner.run("segment", "--model", MODEL, SHAPES, "house", "--vae", vae, "--draw", png.toString(), "--json"));
        assertTrue(out.get("masks_decoded").asBoolean());
        BufferedImage drawn = ImageIO.read(png.toFile());
        assertEquals(200, drawn.getWidth());
        assertEquals(150, drawn.getHeight());
    }

    @Test
    void verbosePrintsLoadingAndTimingsOnStderrOnly() throws IOException {
        CliRunner.Result r = CliRunner.run("ocr", "--model", MODEL, SHAPES, "--max-new-tokens", "5", "--verbose", "--json");
        JsonNode out = json(r);
        assertEquals("ocr", out.get("prompt").asText());
        assertTrue(r.err().contains("loading " + MODEL), r.err());
        assertTrue(r.err().matches("(?s).*load [0-9.]+ s \\| image encode [0-9.]+ s \\| prefill [0-9.]+ s for 19 tokens"
                + " \\| 4 tokens decoded at [0-9.]+ tok/s.*"), r.err());
    }

    @Test
    void aLargeModelAnnouncesItsLoadingOnStderr(@TempDir Path dir) throws IOException {
        // The tiny model beside 300 MB of sparse weights that it does not use (a single-file model reads only model.safetensors).
        try (Stream<Path> files = Files.list(Path.of(MODEL))) {
            for (Path f : files.toList()) Files.createSymbolicLink(dir.resolve(f.getFileName()), f);
        }
        try (RandomAccessFile big = new RandomAccessFile(dir.resolve("unused.safetensors").toFile(), "rw")) {
            big.setLength(300_000_000L);
        }
        CliRunner.Result r = CliRunner.run("caption", "--model", dir.toString(), SHAPES, "--max-new-tokens", "3", "--json");
        assertEquals(0, r.exitCode(), r.err());
        List<String> err = r.err().lines().filter(l -> !l.startsWith("WARNING: Using incubator")).toList();
        assertEquals(2, err.size(), r.err());
        assertTrue(err.get(0).matches("loading " + Pattern.quote(dir.toString()) + " \\(30[0-9] MB of weights\\) …"), err.get(0));
        assertTrue(err.get(1).matches("loaded in [0-9.]+ s"), err.get(1));
        assertEquals("", CliRunner.run("caption", "--model", MODEL, SHAPES, "--max-new-tokens", "3", "--json").err()
                .replace("WARNING: Using incubator modules: jdk.incubator.vector\n", ""), "small models load silently");
    }

    static Stream<Arguments> badArguments() {
        String absent = "/nonexistent/absent.npz";
        return Stream.of(
                Arguments.of(2, "Missing required parameter: 'LABELS'", List.of("detect", "--model", MODEL, SHAPES)),
                Arguments.of(2, "Missing required parameter: 'IMG'", List.of("caption", "--model", MODEL)),
                Arguments.of(2, "label 2 of 3 is empty (labels are separated by ';')", List.of("detect", "--model", MODEL, SHAPES, "cat ; ; dog")),
                Arguments.of(2, "label 'a<b' contains '<'", List.of("segment", "--model", MODEL, SHAPES, "a<b")),
                Arguments.of(2, "--lang: language must be a code", List.of("caption", "--model", MODEL, SHAPES, "--lang", "EN")),
                Arguments.of(2, "the question is empty", List.of("ask", "--model", MODEL, SHAPES, "  ")),
                Arguments.of(2, "Unknown option: '--bogus'", List.of("ocr", "--model", MODEL, SHAPES, "--bogus")),
                Arguments.of(2, "Unmatched argument at index 4: 'extra'", List.of("ocr", "--model", MODEL, SHAPES, "extra")),
                Arguments.of(2, "Invalid value for option '--max-new-tokens'", List.of("ocr", "--model", MODEL, SHAPES, "--max-new-tokens", "ten")),
                Arguments.of(1, "/nonexistent.png: no such file", List.of("caption", "--model", MODEL, "/nonexistent.png")),
                Arguments.of(1, "model directory does not exist", List.of("ocr", "--model", "/nonexistent/model", SHAPES)),
                Arguments.of(1, "--max-new-tokens must be positive", List.of("detect", "--model", MODEL, SHAPES, "cat", "--max-new-tokens", "0")),
                Arguments.of(1, "--top-p must be in (0, 1]", List.of("caption", "--model", MODEL, SHAPES, "--top-p", "2")),
                Arguments.of(1, "absent.npz", List.of("segment", "--model", MODEL, SHAPES, "cat", "--vae", absent)),
                Arguments.of(1, "folder /nonexistent/dir does not exist", List.of("detect", "--model", MODEL, SHAPES, "cat", "--draw", "/nonexistent/dir/out.png")));
    }

    @Test
    void anUnknownCommandIsNamedAsSuchWithTheNearestNames() {
        CliRunner.Result unknown = CliRunner.run("answer", "--model", MODEL, SHAPES, "what?");
        CliRunner.Result typo = CliRunner.run("captoin", "--model", MODEL, SHAPES);
        for (CliRunner.Result r : List.of(unknown, typo)) {
            assertEquals(2, r.exitCode(), r.err());
            assertEquals("", r.out());
        }
        String err = unknown.err().replace("WARNING: Using incubator modules: jdk.incubator.vector\n", "");
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("paligemma: unknown command 'answer'"), err);
        assertTrue(err.contains("(see 'paligemma --help')"), err);
        assertTrue(err.startsWith("paligemma: unknown command 'answer' (see"), "no far-fetched suggestion: " + err);
        assertTrue(typo.err().contains("paligemma: unknown command 'captoin' (did you mean caption?)"), typo.err());
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badArguments")
    void wrongArgumentsGiveOneLineErrorsAndNonZeroExitCodes(int exitCode, String message, List<String> args) {
        CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
        assertEquals(exitCode, r.exitCode(), r.err());
        assertEquals("", r.out());
        String err = r.err().replace("WARNING: Using incubator modules: jdk.incubator.vector\n", "");
        assertEquals(1, err.lines().count(), "one line, no stack trace: " + err);
        assertTrue(err.startsWith("paligemma " + args.getFirst() + ": "), err);
        assertTrue(err.contains(message), err);
    }

    @ParameterizedTest
    @ValueSource(strings = {"caption", "ask", "ocr", "detect", "segment"})
    void helpListsEveryOptionAndFitsAnEightyColumnTerminal(String command) {
        CliRunner.Result r = CliRunner.run(command, "--help");
        assertEquals(0, r.exitCode());
        List<String> expected = new ArrayList<>(List.of("Usage: paligemma " + command, "IMG", "--model=DIR", "$PALIGEMMA_MODEL",
                "--json", "--verbose", "--max-new-tokens=N", "--temperature=T", "--top-k=K", "--top-p=P", "--seed=S",
                "--threads=N", "--help", "Example"));
        switch (command) {
            case "caption" -> expected.add("--lang=CODE");
            case "ask" -> expected.addAll(List.of("QUESTION", "--lang=CODE"));
            case "detect" -> expected.addAll(List.of("LABELS", "--draw=PNG", "x_min"));
            case "segment" -> expected.addAll(List.of("LABELS", "--draw=PNG", "--vae=NPZ", "$PALIGEMMA_VAE", "rle"));
            default -> { }
        }
        for (String s : expected) assertTrue(r.out().contains(s), s + " missing from help:\n" + r.out());
        r.out().lines().forEach(line -> assertTrue(line.length() <= 80, "line wider than 80 columns: " + line));
    }

    @Test
    void mainHelpListsTheTaskCommands() {
        CliRunner.Result r = CliRunner.run("--help");
        for (String c : List.of("caption", "ask", "ocr", "detect", "segment")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith("  " + c + " ")), c + " missing:\n" + r.out());
        }
    }
}
