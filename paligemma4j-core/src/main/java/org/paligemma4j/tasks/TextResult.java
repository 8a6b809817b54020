package org.paligemma4j.tasks;

import java.util.Objects;
import org.paligemma4j.PaliGemma;

/** The answer of a text task (caption, question answering, OCR, or a raw prompt). */
public record TextResult(String prompt, org.paligemma4j.generate.GenerationResult output) implements TaskResult {
    public TextResult {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(output, "output");
    }
}
