package org.paligemma4j.scenes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.LocationTokens;
import org.paligemma4j.tasks.PixelBox;
import org.paligemma4j.train.TrainingData;

/** The {@code paligemma scenes} contract: deterministic files in the training format, boxes as PaliGemma writes them. */
class SceneDatasetTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> m = new HashMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
        }
        return m;
    }

    private static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) out.add(JSON.readTree(l));
        return out;
    }

    @Test
    void theSameSeedGivesByteIdenticalFiles() throws IOException {
        SceneDataset.write(tmp.resolve("a"), 12, 7, 224, null);
        SceneDataset.write(tmp.resolve("b"), 12, 7, 224, null);
        Map<String, byte[]> a = files(tmp.resolve("a")), b = files(tmp.resolve("b"));
        assertEquals(a.keySet(), b.keySet());
        assertEquals(12 + 3 + 5, a.size(), "12 images, data.jsonl, truth.jsonl, requests.jsonl, task-*.jsonl");
        a.forEach((name, bytes) -> assertArrayEquals(bytes, b.get(name), name));
    }

    @Test
    void sceneIDependsOnlyOnSeedAndIndexSoALongerSetStartsWithTheShorterOne() throws IOException {
        SceneDataset.write(tmp.resolve("short"), 3, 11, 96, null);
        SceneDataset.write(tmp.resolve("long"), 6, 11, 96, null);
        List<String> shortTruth = Files.readAllLines(tmp.resolve("short").resolve(SceneDataset.TRUTH));
        assertEquals(shortTruth, Files.readAllLines(tmp.resolve("long").resolve(SceneDataset.TRUTH)).subList(0, 3));
    }

    @Test
    void differentSeedsGiveDisjointScenes() throws IOException {
        SceneDataset.write(tmp.resolve("s1"), 40, 1, 64, null);
        SceneDataset.write(tmp.resolve("s2"), 40, 2, 64, null);
        Set<String> first = new HashSet<>();
        Set<Integer> firstImages = new HashSet<>();
        for (JsonNode n : lines(tmp.resolve("s1").resolve(SceneDataset.TRUTH))) {
            first.add(n.get("objects").toString());
            firstImages.add(java.util.Arrays.hashCode(Files.readAllBytes(tmp.resolve("s1").resolve(n.get("image").asText()))));
        }
        for (JsonNode n : lines(tmp.resolve("s2").resolve(SceneDataset.TRUTH))) {
            assertFalse(first.contains(n.get("objects").toString()), "same objects in both seeds: " + n);
            assertFalse(firstImages.contains(java.util.Arrays.hashCode(Files.readAllBytes(tmp.resolve("s2").resolve(n.get("image").asText())))));
        }
    }

    @Test
    void theTaskFilesSplitDataJsonlByTaskInOrder() throws IOException {
        Path dir = tmp.resolve("t");
        SceneDataset.write(dir, 25, 5, 64, null);
        List<String> all = Files.readAllLines(dir.resolve(SceneDataset.DATA));
        List<String> joined = new ArrayList<>();
        for (String task : SceneDataset.TASKS) {
            List<String> part = Files.readAllLines(dir.resolve(SceneDataset.taskFile(task)));
            assertFalse(part.isEmpty(), task);
            for (String line : part) {
                String prefix = JSON.readTree(line).get("prefix").asText();
                boolean fits = switch (task) {
                    case "caption" -> prefix.equals("caption en");
                    case "count" -> prefix.startsWith("answer en how many ");
                    case "colour" -> prefix.startsWith("answer en what colour ");
                    case "ocr" -> prefix.equals("ocr");
                    default -> prefix.startsWith("detect ");
                };
                assertTrue(fits, task + ": " + line);
                assertTrue(all.indexOf(line) >= 0, line);
            }
            joined.addAll(part);
        }
        assertEquals(all.size(), joined.size());
        assertEquals(new HashSet<>(all), new HashSet<>(joined));
    }

    @Test
    void dataLinesAreTrainingExamplesWithImagesRelativeToTheFolderAndOneRequestPerLine() throws IOException {
        Path dir = tmp.resolve("d");
        SceneDataset.Summary s = SceneDataset.write(dir, 30, 3, 224, null);
        List<JsonNode> data = lines(dir.resolve(SceneDataset.DATA));
        assertEquals(s.examples(), data.size());
        assertEquals(s.examples(), TrainingData.read(dir.resolve(SceneDataset.DATA)).size());
        List<JsonNode> requests = lines(dir.resolve(SceneDataset.REQUESTS));
        Set<String> tasks = new HashSet<>();
        for (int i = 0; i < data.size(); i++) {
            JsonNode d = data.get(i);
            assertEquals(List.of("image", "prefix", "suffix"), iterable(d.fieldNames()));
            assertFalse(Path.of(d.get("image").asText()).isAbsolute());
            assertTrue(Files.isRegularFile(dir.resolve(d.get("image").asText())));
            assertEquals(d.get("image"), requests.get(i).get("image"));
            assertEquals(d.get("prefix"), requests.get(i).get("prompt"));
            assertFalse(d.get("suffix").asText().isBlank(), d.toString());
            tasks.add(SceneScores.task(d.get("prefix").asText()));
        }
        assertEquals(Set.of("caption", "count", "colour", "ocr", "detect"), tasks);
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> l = new ArrayList<>();
        it.forEachRemaining(l::add);
        return l;
    }

    @Test
    void detectTargetsDecodeBackToTheTruthBoxesWithinOneLocationBin() throws IOException {
        for (int size : new int[] {224, 112, 300}) {
            Path dir = tmp.resolve("det" + size);
            SceneDataset.write(dir, 60, 5, size, null);
            List<JsonNode> truth = lines(dir.resolve(SceneDataset.TRUTH));
            Map<String, JsonNode> byImage = new HashMap<>();
            for (JsonNode t : truth) byImage.put(t.get("image").asText(), t);
            int checked = 0;
            for (JsonNode d : lines(dir.resolve(SceneDataset.DATA))) {
                String prefix = d.get("prefix").asText();
                if (!prefix.startsWith("detect ")) continue;
                List<String> asked = List.of(prefix.substring("detect ".length()).split(" ; "));
                List<JsonNode> expected = new ArrayList<>();
                for (JsonNode o : byImage.get(d.get("image").asText()).get("objects")) { // truth lists objects in reading order
                    String label = asked.size() == 1 && asked.get(0).contains(" ")
                            ? o.get("colour").asText() + " " + o.get("shape").asText() : o.get("shape").asText();
                    if (asked.contains(label)) expected.add(o);
                }
                List<Detection> parsed = DetectionParser.detections(d.get("suffix").asText(), size, size);
                assertEquals(expected.size(), parsed.size(), d.toString());
                for (int i = 0; i < parsed.size(); i++) {
                    Detection det = parsed.get(i);
                    assertTrue(det.valid(), d.toString());
                    assertTrue(asked.contains(det.label()), det.label());
                    int[] box = new int[4];
                    for (int k = 0; k < 4; k++) box[k] = expected.get(i).get("box").get(k).asInt();
                    int[] loc = det.loc().toArray();
                    int[] pixels = det.pixelBox().toArray();
                    for (int k = 0; k < 4; k++) {
                        double exactBin = box[k] / (double) size * LocationTokens.MAX;
                        assertTrue(Math.abs(loc[k] - exactBin) <= 0.5, "loc " + loc[k] + " vs " + exactBin);
                        // One bin is size/1023 pixels; big_vision's decoding truncates, so allow that plus one pixel.
                        assertTrue(Math.abs(pixels[k] - box[k]) <= size / 1023.0 + 1, d + ": " + pixels[k] + " vs " + box[k]);
                    }
                    checked++;
                }
            }
            assertTrue(checked > 30, "only " + checked + " boxes checked");
        }
    }

    @Test
    void locationTokensOfAPixelBoxAreTheInverseOfTheirDecoding() {
        for (int size : new int[] {1, 7, 112, 224, 640, 1023, 1024, 2000}) {
            for (int p = 0; p <= size; p++) {
                LocationTokens t = LocationTokens.of(new PixelBox(p, p, p, p), size, size);
                assertTrue(t.inRange());
                assertTrue(Math.abs(t.normalized().yMin() * size - p) <= size / 2046.0 + 1e-9, size + " " + p);
            }
        }
        assertEquals("<loc0000><loc0512><loc1023><loc0000>", LocationTokens.of(new PixelBox(0, 112, 224, 0), 224, 224).text());
    }

    @Test
    void captionsNameTheObjectsLeftToRightAndTheWord() {
        Scene scene = new Scene(100, "solid #ffffff", List.of(
                new SceneObject(Shape.STAR, Colour.BLUE, 10, 60, 30, 80),
                new SceneObject(Shape.CIRCLE, Colour.RED, 50, 5, 70, 25),
                new SceneObject(Shape.SQUARE, Colour.GREEN, 0, 30, 20, 50)), "CAT");
        assertEquals("a red circle, a green square and a blue star with the word CAT", SceneTasks.caption(scene));
        assertEquals("a red circle", SceneTasks.caption(new Scene(100, "x", List.of(scene.objects().get(1)), null)));
        assertEquals("<loc0512><loc0051><loc0716><loc0256> red circle ; <loc0000><loc0307><loc0205><loc0512> green square",
                SceneTasks.detect(scene, o -> o.shape() != Shape.STAR, SceneObject::label));
    }

    @Test
    void everyExampleOfAGeneratedSceneFollowsItsTaskFormat() {
        SceneGenerator g = new SceneGenerator(128);
        for (int i = 0; i < 200; i++) {
            Scene scene = g.draw(9, i).scene();
            assertTrue(scene.objects().size() >= 1 && scene.objects().size() <= SceneGenerator.MAX_OBJECTS);
            for (SceneObject o : scene.objects()) {
                assertTrue(o.xMin() >= 0 && o.yMin() >= 0 && o.xMax() <= 128 && o.yMax() <= 128 && o.width() > 0 && o.height() > 0);
            }
            for (SceneTasks.Example e : SceneTasks.examples(scene, new SplittableRandom(i))) {
                switch (e.task()) {
                    case "count" -> assertTrue(e.suffix().matches("[0-4]"), e.suffix());
                    case "colour" -> assertTrue(Stream.of(Colour.values()).anyMatch(c -> c.word().equals(e.suffix())));
                    case "ocr" -> assertEquals(scene.word(), e.suffix());
                    case "detect" -> assertTrue(e.suffix().matches("(<loc\\d{4}>){4} [a-z ]+( ; (<loc\\d{4}>){4} [a-z ]+)*"), e.suffix());
                    case "caption" -> assertTrue(e.suffix().startsWith("a "));
                    default -> throw new AssertionError(e.task());
                }
            }
        }
    }

    /** Each style draws objects within its widths and words in about its share of scenes; standard is the default. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"standard", "large"})
    void objectsAndWordsFollowTheStyle(String name) {
        SceneGenerator.Style style = SceneGenerator.Style.named(name);
        SceneGenerator g = new SceneGenerator(112, style);
        int words = 0, scenes = 400;
        for (int i = 0; i < scenes; i++) {
            Scene scene = g.draw(3, i).scene();
            if (scene.word() != null) words++;
            for (SceneObject o : scene.objects()) {
                assertTrue(o.width() >= Math.round(112 * style.minObject()) && o.width() <= Math.round(112 * style.maxObject()),
                        name + " scene " + i + ": width " + o.width());
            }
        }
        assertEquals(style.wordProbability(), words / (double) scenes, 0.07, name + ": share of scenes with a word");
        if (name.equals("standard")) {
            assertEquals(new SceneGenerator(112).draw(3, 7).scene(), g.draw(3, 7).scene(), "the default style is standard");
        }
    }

    /** The reading order never hinges on a pixel or two: every two objects' centres are at least 1/16 of the side apart. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {112, 224})
    void objectsCentresAreFarEnoughApartThatTheirReadingOrderIsPlain(int size) {
        SceneGenerator g = new SceneGenerator(size, SceneGenerator.Style.LARGE);
        assertEquals(2 * size / 16, g.minCentreGapTwice(), "half a 14-pixel patch at 112");
        int multi = 0;
        for (int i = 0; i < 400; i++) {
            List<SceneObject> objects = g.draw(5, i).scene().objects();
            if (objects.size() > 1) multi++;
            for (int a = 0; a < objects.size(); a++) {
                for (int b = a + 1; b < objects.size(); b++) {
                    double gapPixels = SceneGenerator.centreGapTwice(objects.get(a), objects.get(b)) / 2.0;
                    assertTrue(gapPixels >= size / 16.0, "scene " + i + ": centres " + gapPixels + " px apart");
                }
            }
        }
        assertTrue(multi > 250, "most scenes still hold several objects: " + multi + " of 400");
    }

    @Test
    void anUnknownStyleIsRefusedByName() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> SceneGenerator.Style.named("huge"));
        assertTrue(e.getMessage().contains("huge") && e.getMessage().contains("standard or large"), e.getMessage());
    }
}
