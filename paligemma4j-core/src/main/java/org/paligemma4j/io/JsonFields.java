package org.paligemma4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Typed reads of optional JSON fields with Hugging Face defaults; errors name the file and the key. */
final class JsonFields {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonNode node;
    private final String where;

    JsonFields(JsonNode node, String where) {
        this.node = node;
        this.where = where;
    }

    static JsonNode readObject(Path file) {
        if (!Files.isRegularFile(file)) throw new CheckpointException(file + ": file not found");
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new CheckpointException(file + ": expected a JSON object");
        return root;
    }

    String where() {
        return where;
    }

    JsonNode node() {
        return node;
    }

    boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    JsonFields child(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isObject()) throw new CheckpointException(where + ": '" + key + "' must be a JSON object");
        return new JsonFields(v, where + " " + key);
    }

    private JsonNode value(String key) {
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    int intOr(String key, int dflt) {
        JsonNode v = value(key);
        if (v == null) return dflt;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new CheckpointException(where + ": '" + key + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    /** An integer in {@code [min, max]}: sizes read from a file bound the tables and arrays built from them. */
    int intOr(String key, int dflt, int min, int max) {
        int v = intOr(key, dflt);
        if (v < min || v > max) {
            throw new CheckpointException(where + ": '" + key + "' is " + v + ", outside the supported range [" + min + ", " + max + "]");
        }
        return v;
    }

    /** A finite number {@code > 0} (or {@code >= 0} when {@code zeroAllowed}). */
    double positiveOr(String key, double dflt, boolean zeroAllowed) {
        double v = doubleOr(key, dflt);
        if (!Double.isFinite(v) || v < 0 || v == 0 && !zeroAllowed) {
            throw new CheckpointException(where + ": '" + key + "' must be a finite number " + (zeroAllowed ? ">= 0" : "> 0")
                    + ", got " + v);
        }
        return v;
    }

    Integer intOrNull(String key) {
        return has(key) ? intOr(key, 0) : null;
    }

    double doubleOr(String key, double dflt) {
        JsonNode v = value(key);
        if (v == null) return dflt;
        if (!v.isNumber()) throw new CheckpointException(where + ": '" + key + "' must be a number, got " + v);
        return v.asDouble();
    }

    Double doubleOrNull(String key) {
        return has(key) ? doubleOr(key, 0) : null;
    }

    /** The default when the key is absent, but null when the file says null explicitly ("disabled"). */
    Double doubleOrDefaultUnlessNull(String key, double dflt) {
        if (node.has(key) && node.get(key).isNull()) return null;
        return doubleOr(key, dflt);
    }

    boolean boolOr(String key, boolean dflt) {
        JsonNode v = value(key);
        if (v == null) return dflt;
        if (!v.isBoolean()) throw new CheckpointException(where + ": '" + key + "' must be true or false, got " + v);
        return v.asBoolean();
    }

    String stringOr(String key, String dflt) {
        JsonNode v = value(key);
        if (v == null) return dflt;
        if (!v.isTextual()) throw new CheckpointException(where + ": '" + key + "' must be a string, got " + v);
        return v.asText();
    }

    /** An int or a list of ints (as for eos_token_id); empty when absent. */
    int[] intsOr(String key, int[] dflt) {
        JsonNode v = value(key);
        if (v == null) return dflt;
        if (v.isIntegralNumber()) return new int[] {intOr(key, 0)};
        if (!v.isArray()) throw new CheckpointException(where + ": '" + key + "' must be an integer or a list of integers");
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            if (!v.get(i).isIntegralNumber() || !v.get(i).canConvertToInt()) {
                throw new CheckpointException(where + ": '" + key + "' entry " + i + " is not an integer");
            }
            out[i] = v.get(i).asInt();
        }
        return out;
    }
}
