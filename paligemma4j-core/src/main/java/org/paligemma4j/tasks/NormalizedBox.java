package org.paligemma4j.tasks;

/** A box in [0, 1] image coordinates, in PaliGemma's order (y1, x1, y2, x2). */
public record NormalizedBox(double yMin, double xMin, double yMax, double xMax) {

    /** What big_vision's evaluator scores for a prediction it rejected: its tokens are zeroed. */
    public static final NormalizedBox ZERO = new NormalizedBox(0, 0, 0, 0);

    /** {@code max(x2 - x1, 0) * max(y2 - y1, 0)}: an inverted box has no area. */
    public double area() {
        return Math.max(xMax - xMin, 0.0) * Math.max(yMax - yMin, 0.0);
    }

    public double[] toArray() {
        return new double[] {yMin, xMin, yMax, xMax};
    }
}
