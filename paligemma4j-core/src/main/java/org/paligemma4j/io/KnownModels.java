package org.paligemma4j.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The published PaliGemma checkpoints this project knows by name, each with the config.json,
 * generation_config.json and preprocessor_config.json of its Hub repository (bundled as resources) and
 * the dtype of its published safetensors. Used to synthesise random-weight twins for benchmarks.
 */
public final class KnownModels {
    private static final String ROOT = "known-models/";

    private KnownModels() {}

    public static List<String> names() {
        return read("index.txt").lines().filter(s -> !s.isBlank()).toList();
    }

    public static boolean isKnown(String name) {
        return names().contains(name);
    }

    /** One of the bundled files ({@code config.json}, {@code generation_config.json}, {@code preprocessor_config.json}). */
    public static String file(String model, String fileName) {
        if (!isKnown(model)) {
            throw new IllegalArgumentException("unknown model '" + model + "'; known: " + String.join(", ", names()));
        }
        return read(model + "/" + fileName);
    }

    /** PaliGemma 1 was published in float32, PaliGemma 2 in bfloat16. */
    public static DType publishedDType(String model) {
        try {
            String dtype = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file(model, "config.json"))
                    .path("torch_dtype").asText("float32");
            return dtype.equals("bfloat16") ? DType.BF16 : DType.F32;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(String path) {
        try (InputStream in = KnownModels.class.getResourceAsStream(ROOT + path)) {
            if (in == null) throw new IllegalStateException("missing bundled resource " + ROOT + path);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
