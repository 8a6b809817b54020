package org.paligemma4j.tasks;

import java.util.List;
import java.util.Objects;
import org.paligemma4j.PaliGemma;

/**
 * The objects of a detect output in the order the model wrote them, malformed ones included (they answer
 * {@link Detection#valid()} with false). Each has its label, its box in original-image pixels
 * ({@link Detection#pixelBox()}) and its normalized box ({@link Detection#normalizedBox()}).
 */
public record DetectResult(String prompt, org.paligemma4j.generate.GenerationResult output, List<Detection> objects) implements TaskResult {
    public DetectResult {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(output, "output");
        objects = List.copyOf(objects);
    }

    /** Only the usable objects. */
    public List<Detection> validObjects() {
        return objects.stream().filter(Detection::valid).toList();
    }
}
