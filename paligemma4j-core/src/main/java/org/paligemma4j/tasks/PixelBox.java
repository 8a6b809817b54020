package org.paligemma4j.tasks;

/**
 * A box in original-image pixels: rows {@code yMin..yMax-1}, columns {@code xMin..xMax-1} (max exclusive).
 * It may be empty or inverted when the model's output was malformed; {@link #isEmpty()} says so.
 */
public record PixelBox(int yMin, int xMin, int yMax, int xMax) {

    public int width() {
        return xMax - xMin;
    }

    public int height() {
        return yMax - yMin;
    }

    /** True unless {@code yMax > yMin} and {@code xMax > xMin}. */
    public boolean isEmpty() {
        return yMax <= yMin || xMax <= xMin;
    }

    public int[] toArray() {
        return new int[] {yMin, xMin, yMax, xMax};
    }
}
