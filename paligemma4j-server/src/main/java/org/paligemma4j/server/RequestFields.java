package org.paligemma4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed access to a JSON request's fields: a field of the wrong type or out of range is a 400 naming the field
 * and what it must be, never a server error. An absent field or an explicit null reads as "not given".
 */
final class RequestFields {
    private RequestFields() {}

    static boolean given(JsonNode root, String name) {
        JsonNode v = root.get(name);
        return v != null && !v.isNull();
    }

    static String string(JsonNode root, String name) {
        if (!given(root, name)) return null;
        JsonNode v = root.get(name);
        if (!v.isTextual()) throw ApiException.badRequest(name, "'" + name + "' must be a string, got " + kind(v));
        return v.asText();
    }

    static Boolean bool(JsonNode root, String name) {
        if (!given(root, name)) return null;
        JsonNode v = root.get(name);
        if (!v.isBoolean()) throw ApiException.badRequest(name, "'" + name + "' must be true or false, got " + kind(v));
        return v.booleanValue();
    }

    /** An integer in {@code min..max} (a JSON number with no fraction, e.g. 5 or 5.0). */
    static Long integer(JsonNode root, String name, long min, long max) {
        if (!given(root, name)) return null;
        JsonNode v = root.get(name);
        if (!v.isNumber() || !(v.isIntegralNumber() || v.asDouble() == Math.rint(v.asDouble())) || !v.canConvertToLong()) {
            throw ApiException.badRequest(name, "'" + name + "' must be an integer, got " + kind(v));
        }
        long value = v.asLong();
        if (value < min || value > max) {
            throw ApiException.badRequest(name, "'" + name + "' must be in " + min + ".." + max + ", got " + value);
        }
        return value;
    }

    /** A number in {@code [min, max]}. */
    static Double number(JsonNode root, String name, double min, double max) {
        if (!given(root, name)) return null;
        JsonNode v = root.get(name);
        if (!v.isNumber()) throw ApiException.badRequest(name, "'" + name + "' must be a number, got " + kind(v));
        double value = v.asDouble();
        if (!(value >= min && value <= max)) {
            throw ApiException.badRequest(name, "'" + name + "' must be in [" + min + ", " + max + "], got " + value);
        }
        return value;
    }

    /** A string, or an array of at most {@code maxItems} strings; none may be empty. */
    static List<String> strings(JsonNode root, String name, int maxItems) {
        if (!given(root, name)) return List.of();
        JsonNode v = root.get(name);
        List<String> out = new ArrayList<>();
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            if (v.size() > maxItems) throw ApiException.badRequest(name, "'" + name + "' may hold at most " + maxItems + " strings, got " + v.size());
            for (JsonNode item : v) {
                if (!item.isTextual()) throw ApiException.badRequest(name, "'" + name + "' must be a string or an array of strings, got an array holding " + kind(item));
                out.add(item.asText());
            }
        } else {
            throw ApiException.badRequest(name, "'" + name + "' must be a string or an array of strings, got " + kind(v));
        }
        for (String s : out) if (s.isEmpty()) throw ApiException.badRequest(name, "'" + name + "' must not hold an empty string");
        return out;
    }

    /** "a string", "an object", … for error messages. */
    static String kind(JsonNode v) {
        return switch (v.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
