package org.paligemma4j.scenes;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Writes a synthetic data set: {@code images/NNNNNN.png}, {@code data.jsonl} in the training format (one
 * {@code {"image","prefix","suffix"}} line per example, image paths relative to the folder) and
 * {@code truth.jsonl} (one line per scene: image, size, background, objects with shape, colour and pixel box
 * {@code [y_min, x_min, y_max, x_max]} (max exclusive), the word or null, and the caption) and
 * {@code requests.jsonl} (the prompts of data.jsonl, line for line, for {@code generate --requests}), and the lines of
 * data.jsonl split by task into {@code task-caption.jsonl}, {@code task-count.jsonl}, {@code task-colour.jsonl},
 * {@code task-ocr.jsonl} and {@code task-detect.jsonl} (for {@code eval} per task). Files are written in
 * scene order and depend only on (count, seed, size), so a rerun gives the same bytes.
 */
public final class SceneDataset {
    private SceneDataset() {}

    /** Folder of the pictures, relative to the data set. */
    public static final String IMAGES = "images";
    public static final String DATA = "data.jsonl";
    public static final String TRUTH = "truth.jsonl";
    /** The prompts of data.jsonl, line for line, as {@code generate --requests} reads them. */
    public static final String REQUESTS = "requests.jsonl";

    /** The tasks of {@link SceneTasks#examples}, each with its own {@code task-NAME.jsonl}. */
    public static final List<String> TASKS = List.of("caption", "count", "colour", "ocr", "detect");

    /** The file of one task's examples. */
    public static String taskFile(String task) {
        return "task-" + task + ".jsonl";
    }

    /** Salt of the texts' random stream, so the questions asked do not shift the pictures drawn. */
    private static final long TASK_STREAM = 0x5DEECE66DL;

    public record Summary(int scenes, int examples) {}

    public interface Progress {
        void scene(int done, int total);
    }

    public static Summary write(Path dir, int count, long seed, int size, Progress progress) throws IOException {
        return write(dir, count, seed, size, SceneGenerator.Style.STANDARD, progress);
    }

    /** {@code count} scenes of {@code seed} drawn in {@code style}, with their texts, under {@code dir}. */
    public static Summary write(Path dir, int count, long seed, int size, SceneGenerator.Style style, Progress progress)
            throws IOException {
        if (count < 1) throw new IllegalArgumentException("--count must be at least 1, got " + count);
        SceneGenerator generator = new SceneGenerator(size, style);
        Files.createDirectories(dir.resolve(IMAGES));
        ObjectMapper json = new ObjectMapper();
        int examples = 0;
        try (BufferedWriter data = Files.newBufferedWriter(dir.resolve(DATA), StandardCharsets.UTF_8);
             BufferedWriter truth = Files.newBufferedWriter(dir.resolve(TRUTH), StandardCharsets.UTF_8);
             BufferedWriter requests = Files.newBufferedWriter(dir.resolve(REQUESTS), StandardCharsets.UTF_8);
             TaskFiles perTask = new TaskFiles(dir)) {
            for (int i = 0; i < count; i++) {
                SceneGenerator.Drawn drawn = generator.draw(seed, i);
                String image = IMAGES + "/" + String.format(Locale.ROOT, "%06d.png", i);
                try (OutputStream png = Files.newOutputStream(dir.resolve(image))) {
                    if (!ImageIO.write(drawn.image(), "png", png)) throw new IOException("no PNG writer in this JDK");
                }
                truth.write(json.writeValueAsString(truthLine(image, drawn.scene())));
                truth.write('\n');
                List<SceneTasks.Example> lines = SceneTasks.examples(drawn.scene(), SceneGenerator.random(seed ^ TASK_STREAM, i));
                for (SceneTasks.Example e : lines) {
                    ObjectNode line = json.createObjectNode();
                    line.put("image", image);
                    line.put("prefix", e.prefix());
                    line.put("suffix", e.suffix());
                    String text = json.writeValueAsString(line);
                    data.write(text);
                    data.write('\n');
                    perTask.write(e.task(), text);
                    ObjectNode request = json.createObjectNode();
                    request.put("image", image);
                    request.put("prompt", e.prefix());
                    requests.write(json.writeValueAsString(request));
                    requests.write('\n');
                }
                examples += lines.size();
                if (progress != null) progress.scene(i + 1, count);
            }
        }
        return new Summary(count, examples);
    }

    /** One writer per task, all closed together. */
    private static final class TaskFiles implements AutoCloseable {
        private final java.util.Map<String, BufferedWriter> writers = new java.util.LinkedHashMap<>();

        TaskFiles(Path dir) throws IOException {
            try {
                for (String task : TASKS) writers.put(task, Files.newBufferedWriter(dir.resolve(taskFile(task)), StandardCharsets.UTF_8));
            } catch (IOException e) {
                close();
                throw e;
            }
        }

        void write(String task, String line) throws IOException {
            BufferedWriter w = writers.get(task);
            if (w == null) throw new IllegalStateException("no file for task " + task);
            w.write(line);
            w.write('\n');
        }

        @Override
        public void close() throws IOException {
            IOException first = null;
            for (BufferedWriter w : writers.values()) {
                try {
                    w.close();
                } catch (IOException e) {
                    if (first == null) first = e;
                }
            }
            if (first != null) throw first;
        }
    }

    static ObjectNode truthLine(String image, Scene scene) {
        ObjectNode line = new ObjectMapper().createObjectNode();
        line.put("image", image);
        line.put("size", scene.size());
        line.put("background", scene.background());
        ArrayNode objects = line.putArray("objects");
        for (SceneObject o : scene.objectsInReadingOrder()) {
            ObjectNode n = objects.addObject();
            n.put("shape", o.shape().word());
            n.put("colour", o.colour().word());
            ArrayNode box = n.putArray("box");
            box.add(o.yMin()).add(o.xMin()).add(o.yMax()).add(o.xMax());
        }
        if (scene.word() == null) line.putNull("text");
        else line.put("text", scene.word());
        line.put("caption", SceneTasks.caption(scene));
        return line;
    }
}
