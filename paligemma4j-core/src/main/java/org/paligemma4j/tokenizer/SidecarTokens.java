package org.paligemma4j.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Hugging Face files that sit beside {@code tokenizer.model} in a checkpoint and add tokens to it:
 * {@code added_tokens.json} ({@code {"<image>": 257152}}) and the {@code added_tokens_decoder} of
 * {@code tokenizer_config.json}. PaliGemma's {@code <image>} token exists only there.
 */
final class SidecarTokens {
    private SidecarTokens() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Token id to content, from whichever of the two files exist in {@code dir}; the files must agree. */
    static Map<Integer, String> read(Path dir) throws IOException {
        Map<Integer, String> tokens = new TreeMap<>();
        Path added = dir.resolve("added_tokens.json");
        if (Files.isRegularFile(added)) {
            JsonNode root = parse(added);
            if (!root.isObject()) throw new TokenizerFormatException(added + ": expected a JSON object {\"token\": id}");
            for (Map.Entry<String, JsonNode> e : root.properties()) {
                if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                    throw new TokenizerFormatException(added + ": id of '" + e.getKey() + "' is not a non-negative integer");
                }
                put(tokens, e.getValue().asInt(), e.getKey(), added);
            }
        }
        Path config = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            JsonNode decoder = parse(config).path("added_tokens_decoder");
            for (Map.Entry<String, JsonNode> e : decoder.properties()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new TokenizerFormatException(config + ": added_tokens_decoder key '" + e.getKey() + "' is not an id");
                }
                JsonNode content = e.getValue().path("content");
                if (id < 0 || !content.isTextual() || content.asText().isEmpty()) {
                    throw new TokenizerFormatException(config + ": malformed added_tokens_decoder entry " + e.getKey());
                }
                put(tokens, id, content.asText(), config);
            }
        }
        return tokens;
    }

    private static void put(Map<Integer, String> tokens, int id, String content, Path file) throws TokenizerFormatException {
        String earlier = tokens.putIfAbsent(id, content);
        if (earlier != null && !earlier.equals(content)) {
            throw new TokenizerFormatException(file + ": id " + id + " is '" + content + "' here but '" + earlier
                    + "' in added_tokens.json");
        }
    }

    private static JsonNode parse(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new TokenizerFormatException(file + ": invalid JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.CharConversionException e) {
            // Jackson guesses the encoding from the first bytes; damaged ones can make it read UTF-32 garbage.
            throw new TokenizerFormatException(file + ": invalid JSON text: " + e.getMessage(), e);
        }
    }
}
