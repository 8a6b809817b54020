package org.paligemma4j.testing;

import com.fasterxml.jackson.databind.JsonNode;

/** JSON arrays of the goldens and of CLI output as Java arrays. */
public final class JsonArrays {
    private JsonArrays() {}

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }
}
