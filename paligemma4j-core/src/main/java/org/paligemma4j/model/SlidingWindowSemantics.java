package org.paligemma4j.model;

/**
 * How Gemma 2's local (sliding-window) layers treat a prompt longer than the window. The implementations
 * disagree only there; for prompts within the window all three give the same result.
 */
public enum SlidingWindowSemantics {
    /**
     * Current Hugging Face transformers (the default): prompt tokens see the whole prompt in every layer;
     * other tokens see the last W keys.
     */
    TRANSFORMERS,
    /** transformers 4.49: the window also hides prompt keys more than W−1 positions behind a prompt query. */
    TRANSFORMERS_4_49,
    /** big_vision: no window at all, every layer attends globally. */
    FULL
}
