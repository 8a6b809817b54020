package org.paligemma4j.scenes;

/**
 * One drawn shape and its pixel box: rows {@code yMin..yMax-1}, columns {@code xMin..xMax-1} (max exclusive, the
 * {@code PixelBox} convention of the tasks package). The shape touches all four sides of its box.
 */
public record SceneObject(Shape shape, Colour colour, int yMin, int xMin, int yMax, int xMax) {

    /** How captions and detections name it: {@code "red circle"}. */
    public String label() {
        return colour.word() + " " + shape.word();
    }

    public int width() {
        return xMax - xMin;
    }

    public int height() {
        return yMax - yMin;
    }
}
