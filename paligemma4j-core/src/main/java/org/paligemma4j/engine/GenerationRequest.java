package org.paligemma4j.engine;

import java.util.List;
import java.util.Objects;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.image.RgbImage;

/**
 * One generation: one or more images (their image tokens come first, in this order), the prompt text and how to
 * generate. Immutable.
 */
public record GenerationRequest(List<RgbImage> images, String prompt, GenerationOptions options) {
    public GenerationRequest {
        images = List.copyOf(images);
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(options, "options");
        if (images.isEmpty()) throw new IllegalArgumentException("a request needs at least one image");
    }

    public static GenerationRequest of(RgbImage image, String prompt, GenerationOptions options) {
        return new GenerationRequest(List.of(image), prompt, options);
    }
}
