package org.paligemma4j.tasks;

import org.paligemma4j.PaliGemma;

/** What a task returns: the prompt it ran, the model's raw generation, and (for detect/segment) typed objects. */
public sealed interface TaskResult permits TextResult, DetectResult, SegmentResult {

    /** The prompt the model saw, e.g. {@code detect cat ; dog}. */
    String prompt();

    /** Generated ids, decoded text and timings. */
    org.paligemma4j.generate.GenerationResult output();

    /** The decoded text (control tokens such as {@code <eos>} removed). */
    default String text() {
        return output().text();
    }

    /** The generated ids, a final {@code <eos>} included when the model produced it. */
    default int[] ids() {
        return output().ids();
    }
}
