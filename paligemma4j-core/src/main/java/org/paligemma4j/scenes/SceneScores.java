package org.paligemma4j.scenes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.Iou;

/**
 * Task metrics of a model's answers on scene examples: exact match per text task (caption, count, colour, ocr,
 * after trimming surrounding whitespace) and, for detection, precision and recall of objects at IoU ≥ 0.5 with
 * the label right too (each expected object matched at most once, greedily by IoU).
 */
public final class SceneScores {

    /** The IoU an answered box needs to count as finding an object. */
    public static final double IOU_THRESHOLD = 0.5;

    private final Map<String, int[]> exact = new LinkedHashMap<>(); // task -> {right, total}
    private int detectExpected, detectPredicted, detectMatched;

    /** The task of a prompt, as {@link SceneTasks} names them. */
    public static String task(String prefix) {
        if (prefix.startsWith("caption")) return "caption";
        if (prefix.startsWith("answer en how many")) return "count";
        if (prefix.startsWith("answer en what colour")) return "colour";
        if (prefix.startsWith("ocr")) return "ocr";
        if (prefix.startsWith("detect")) return "detect";
        return "other";
    }

    public void add(String prefix, String expected, String answer, int size) {
        String task = task(prefix);
        int[] counts = exact.computeIfAbsent(task, k -> new int[2]);
        counts[1]++;
        if (expected.strip().equals(answer.strip())) counts[0]++;
        if (task.equals("detect")) {
            List<Detection> want = DetectionParser.detections(expected, size, size);
            List<Detection> got = DetectionParser.detections(answer, size, size).stream().filter(Detection::boxValid).toList();
            detectExpected += want.size();
            detectPredicted += got.size();
            List<Detection> open = new ArrayList<>(want);
            for (Detection g : got) {
                Detection best = null;
                double bestIou = IOU_THRESHOLD;
                for (Detection w : open) {
                    double iou = Iou.box(w.normalizedBox(), g.normalizedBox());
                    if (java.util.Objects.equals(w.label(), g.label()) && iou >= bestIou) {
                        best = w;
                        bestIou = iou;
                    }
                }
                if (best != null) {
                    open.remove(best);
                    detectMatched++;
                }
            }
        }
    }

    /** Exact match in percent per task, then {@code detect_precision} and {@code detect_recall} in percent. */
    public Map<String, Double> percentages() {
        Map<String, Double> m = new LinkedHashMap<>();
        exact.forEach((task, c) -> m.put(task + "_exact", 100.0 * c[0] / c[1]));
        if (exact.containsKey("detect")) {
            m.put("detect_precision", detectPredicted == 0 ? 0 : 100.0 * detectMatched / detectPredicted);
            m.put("detect_recall", detectExpected == 0 ? 0 : 100.0 * detectMatched / detectExpected);
        }
        return m;
    }
}
