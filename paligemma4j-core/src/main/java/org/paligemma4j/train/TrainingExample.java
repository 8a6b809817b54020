package org.paligemma4j.train;

import java.nio.file.Path;

/**
 * One fine-tuning example: an image, the task prefix the model is given and the suffix it should answer.
 *
 * @param line the 1-based line of the JSONL file it came from, for error messages
 */
public record TrainingExample(Path image, String prefix, String suffix, int line) {}
