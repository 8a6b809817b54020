package org.paligemma4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A fine-tuning data set in the JSONL layout big_vision and the Hugging Face guides use: one JSON
 * object per line, {@code {"image": "photos/dog.jpg", "prefix": "caption en", "suffix": "a dog on a sofa"}},
 * image paths absolute or relative to the file's folder. Blank lines are skipped; every bad line is
 * reported with its number, all at once.
 */
public final class TrainingData {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REPORTED = 20;

    private TrainingData() {}

    /** Thrown for a data file that cannot be used; the message lists every problem by line. */
    public static final class DataException extends IOException {
        DataException(String message) {
            super(message);
        }
    }

    public static List<TrainingExample> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataException(file + ": no such data file");
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new DataException(file + ": not UTF-8 text");
        }
        Path folder = file.toAbsolutePath().getParent();
        List<TrainingExample> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String text = lines.get(i).strip();
            if (text.isEmpty()) continue;
            int line = i + 1;
            JsonNode node;
            try {
                node = JSON.readTree(text);
            } catch (IOException e) {
                problems.add("line " + line + ": not valid JSON (" + firstLine(e.getMessage()) + ")");
                continue;
            }
            if (node == null || !node.isObject()) {
                problems.add("line " + line + ": expected a JSON object {\"image\": …, \"prefix\": …, \"suffix\": …}");
                continue;
            }
            String image = field(node, "image", line, problems), prefix = field(node, "prefix", line, problems);
            String suffix = field(node, "suffix", line, problems);
            if (image == null || prefix == null || suffix == null) continue;
            Path path;
            try {
                path = folder.resolve(image).normalize();
            } catch (java.nio.file.InvalidPathException e) {
                problems.add("line " + line + ": \"image\" is not a valid path: " + image);
                continue;
            }
            if (!Files.isRegularFile(path)) {
                problems.add("line " + line + ": image " + path + " does not exist");
                continue;
            }
            out.add(new TrainingExample(path, prefix, suffix, line));
        }
        if (!problems.isEmpty()) {
            StringBuilder msg = new StringBuilder(file + ": " + problems.size() + " bad line" + (problems.size() == 1 ? "" : "s"));
            for (String p : problems.subList(0, Math.min(MAX_REPORTED, problems.size()))) msg.append("\n  ").append(p);
            if (problems.size() > MAX_REPORTED) msg.append("\n  … and ").append(problems.size() - MAX_REPORTED).append(" more");
            throw new DataException(msg.toString());
        }
        if (out.isEmpty()) throw new DataException(file + ": no examples (the file is empty)");
        return out;
    }

    private static String field(JsonNode node, String key, int line, List<String> problems) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            problems.add("line " + line + ": missing \"" + key + "\"");
            return null;
        }
        if (!v.isTextual()) {
            problems.add("line " + line + ": \"" + key + "\" must be a string, got " + v.getNodeType().toString().toLowerCase());
            return null;
        }
        if (key.equals("image") && v.asText().isBlank()) {
            problems.add("line " + line + ": \"image\" is empty");
            return null;
        }
        return v.asText();
    }

    private static String firstLine(String s) {
        if (s == null) return "parse error";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
