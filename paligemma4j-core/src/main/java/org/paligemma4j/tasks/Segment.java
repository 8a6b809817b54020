package org.paligemma4j.tasks;

import java.util.Objects;

/**
 * One object of a segment output with its full-image mask, or without one ({@code mask} null) when the object
 * has no valid {@code <seg>} tokens or no mask decoder was given.
 */
public record Segment(Detection detection, BinaryMask mask) {
    public Segment {
        Objects.requireNonNull(detection, "detection");
    }

    public boolean hasMask() {
        return mask != null;
    }
}
