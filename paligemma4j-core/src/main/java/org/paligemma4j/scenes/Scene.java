package org.paligemma4j.scenes;

import java.util.Comparator;
import java.util.List;

/**
 * The ground truth of one synthetic picture: what was drawn where, and the word written on it (or null).
 *
 * @param size the picture is {@code size x size} pixels
 * @param background how the background was painted, e.g. {@code "solid #e0e0d0"} (informative only)
 */
public record Scene(int size, String background, List<SceneObject> objects, String word) {

    /** The order in which captions name objects and detections list them: left to right, then top to bottom. */
    public static final Comparator<SceneObject> READING_ORDER = Comparator
            .comparingInt((SceneObject o) -> o.xMin() + o.xMax())
            .thenComparingInt(o -> o.yMin() + o.yMax())
            .thenComparing(SceneObject::label);

    public Scene {
        objects = List.copyOf(objects);
    }

    /** The objects in {@link #READING_ORDER}. */
    public List<SceneObject> objectsInReadingOrder() {
        return objects.stream().sorted(READING_ORDER).toList();
    }

    public long count(Shape shape) {
        return objects.stream().filter(o -> o.shape() == shape).count();
    }
}
