package org.paligemma4j.scenes;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.paligemma4j.tasks.LocationTokens;
import org.paligemma4j.tasks.PixelBox;

/**
 * The training texts of a scene in PaliGemma's task formats: a prompt (the prefix, without the {@code "\n"}
 * the prompt format adds) and the exact target text (the suffix).
 *
 * <ul>
 *   <li>{@code caption en} → {@code a red circle, a blue star and a green square with the word CAT}: objects in
 *       {@link Scene#READING_ORDER} (left to right by box centre, then top to bottom).</li>
 *   <li>{@code answer en how many circles are there?} → {@code 2} (a digit, 0 for an absent shape).</li>
 *   <li>{@code answer en what colour is the star?} → {@code blue}, asked only of a shape the scene holds once.</li>
 *   <li>{@code ocr} → {@code CAT}, only on a scene with a word.</li>
 *   <li>{@code detect red circle} or {@code detect circle ; star} → every matching object in reading order,
 *       {@code <loc>}×4 (y_min x_min y_max x_max) then a space and the label as asked, objects joined by
 *       {@code " ; "}: {@code <loc0102><loc0233><loc0410><loc0540> circle ; <loc…>… star}.</li>
 * </ul>
 */
public final class SceneTasks {
    private SceneTasks() {}

    /** One training example of a scene. */
    public record Example(String task, String prefix, String suffix) {}

    /** Every word the prompts and targets use, apart from the OCR words and {@code <loc>} tokens. */
    public static List<String> vocabulary() {
        List<String> words = new ArrayList<>(List.of("caption", "en", "answer", "how", "many", "are", "there", "what",
                "colour", "is", "the", "ocr", "detect", "a", "and", "with", "word", ";"));
        for (Shape s : Shape.values()) {
            words.add(s.word());
            words.add(s.plural());
        }
        for (Colour c : Colour.values()) words.add(c.word());
        return List.copyOf(words);
    }

    /** The examples of one scene: a caption, a count, a colour question when one applies, OCR when there is a word, a detection. */
    public static List<Example> examples(Scene scene, SplittableRandom rng) {
        List<Example> out = new ArrayList<>();
        out.add(new Example("caption", "caption en", caption(scene)));
        Shape counted = Shape.values()[rng.nextInt(Shape.values().length)];
        out.add(new Example("count", "answer en how many " + counted.plural() + " are there?",
                Long.toString(scene.count(counted))));
        List<SceneObject> unique = scene.objectsInReadingOrder().stream().filter(o -> scene.count(o.shape()) == 1).toList();
        if (!unique.isEmpty()) {
            SceneObject asked = unique.get(rng.nextInt(unique.size()));
            out.add(new Example("colour", "answer en what colour is the " + asked.shape().word() + "?", asked.colour().word()));
        }
        if (scene.word() != null) out.add(new Example("ocr", "ocr", scene.word()));
        out.add(detection(scene, rng));
        return out;
    }

    public static String caption(Scene scene) {
        List<String> parts = scene.objectsInReadingOrder().stream().map(o -> "a " + o.label()).toList();
        String list = parts.size() == 1 ? parts.get(0)
                : String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.get(parts.size() - 1);
        return scene.word() == null ? list : list + " with the word " + scene.word();
    }

    /** Half the time {@code detect <colour> <shape>} of an object's label, else {@code detect <shape> ; <shape>} of the classes present. */
    static Example detection(Scene scene, SplittableRandom rng) {
        List<SceneObject> objects = scene.objectsInReadingOrder();
        List<Shape> present = objects.stream().map(SceneObject::shape).distinct().toList();
        if (rng.nextBoolean() || present.size() < 2) {
            SceneObject target = objects.get(rng.nextInt(objects.size()));
            String label = target.label();
            return new Example("detect", "detect " + label, detect(scene, o -> o.label().equals(label), SceneObject::label));
        }
        Shape first = present.get(rng.nextInt(present.size()));
        Shape second;
        do {
            second = present.get(rng.nextInt(present.size()));
        } while (second == first);
        Shape a = first, b = second;
        return new Example("detect", "detect " + a.word() + " ; " + b.word(),
                detect(scene, o -> o.shape() == a || o.shape() == b, o -> o.shape().word()));
    }

    /** The detect target for the objects {@code wanted} accepts, in reading order. */
    public static String detect(Scene scene, java.util.function.Predicate<SceneObject> wanted,
                                java.util.function.Function<SceneObject, String> label) {
        return scene.objectsInReadingOrder().stream().filter(wanted)
                .map(o -> locations(o, scene.size()).text() + " " + label.apply(o))
                .collect(Collectors.joining(" ; "));
    }

    public static LocationTokens locations(SceneObject o, int size) {
        return LocationTokens.of(new PixelBox(o.yMin(), o.xMin(), o.yMax(), o.xMax()), size, size);
    }
}
