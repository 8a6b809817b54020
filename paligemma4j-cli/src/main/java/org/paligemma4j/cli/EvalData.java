package org.paligemma4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The examples of an evaluation file: JSON Lines in the fine-tuning layout, one example a line,
 * {@code {"image": "photos/dog.jpg", "prefix": "caption en", "suffix": "a dog on a sofa"}}. The image path is
 * absolute or relative to the file's folder. The references are {@code "answers"} (an array of strings, e.g. the
 * ten human answers of VQAv2) when present, else the suffix, which may itself be a string or an array of strings
 * (several reference captions). Other fields are ignored; blank lines are skipped.
 */
final class EvalData {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Problems listed before giving up on a file. */
    private static final int MAX_REPORTED = 10;

    private EvalData() {}

    /** One example: its line number (1-based), image, task prefix and reference texts (at least one). */
    record Example(int line, Path image, String prefix, List<String> references) {}

    /**
     * The first {@code limit} examples of {@code file} (all when {@code limit} is null).
     *
     * @throws CliException naming the file and each bad line's number and problem (up to 10 of them)
     */
    static List<Example> read(Path file, Integer limit) throws IOException {
        if (Files.isDirectory(file)) throw new CliException(file + ": is a folder; --data needs a JSON Lines file");
        if (!Files.isRegularFile(file)) throw new CliException(file + ": no such file");
        Path folder = file.toAbsolutePath().getParent();
        List<Example> examples = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        int bad = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null && (limit == null || examples.size() + bad < limit)) {
                number++;
                if (line.isBlank()) continue;
                try {
                    examples.add(parse(line, number, folder));
                } catch (IllegalArgumentException e) {
                    bad++;
                    if (problems.size() < MAX_REPORTED) problems.add("line " + number + ": " + e.getMessage());
                }
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new CliException(file + ": not UTF-8 text");
        }
        if (bad > 0) {
            throw new CliException(file + ": " + bad + " bad line" + (bad == 1 ? "" : "s") + ": " + String.join("; ", problems)
                    + (bad > problems.size() ? "; …" : ""));
        }
        if (examples.isEmpty()) throw new CliException(file + ": no examples");
        return examples;
    }

    private static Example parse(String line, int number, Path folder) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON (" + e.getOriginalMessage() + ")");
        }
        if (node == null || !node.isObject()) throw new IllegalArgumentException("an example must be a JSON object");
        String image = text(node, "image");
        String prefix = text(node, "prefix");
        List<String> references = node.has("answers") ? texts(node, "answers") : node.has("suffix") ? texts(node, "suffix") : null;
        if (references == null) throw new IllegalArgumentException("missing \"suffix\" (or \"answers\")");
        if (references.isEmpty()) throw new IllegalArgumentException("\"" + (node.has("answers") ? "answers" : "suffix") + "\" is empty");
        Path path = Path.of(image);
        if (!path.isAbsolute()) path = folder.resolve(path);
        if (!Files.isRegularFile(path)) throw new IllegalArgumentException("image " + path + " does not exist");
        return new Example(number, path, prefix, references);
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) throw new IllegalArgumentException("missing \"" + field + "\"");
        if (!v.isTextual()) throw new IllegalArgumentException("\"" + field + "\" must be a string");
        return v.asText();
    }

    private static List<String> texts(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v.isTextual()) return List.of(v.asText());
        if (!v.isArray()) throw new IllegalArgumentException("\"" + field + "\" must be a string or an array of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode t : v) {
            if (!t.isTextual()) throw new IllegalArgumentException("\"" + field + "\" must be a string or an array of strings");
            out.add(t.asText());
        }
        return out;
    }
}
