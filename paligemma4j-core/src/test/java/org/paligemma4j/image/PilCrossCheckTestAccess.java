package org.paligemma4j.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/** The PIL cross-check files (all decoders' formats) for tests in other packages. */
public final class PilCrossCheckTestAccess {
    private PilCrossCheckTestAccess() {}

    public static JsonNode manifest() throws IOException {
        return PilCrossCheckTest.manifest();
    }

    public static byte[] resource(String name) throws IOException {
        return PilCrossCheckTest.resource(name);
    }
}
