package org.paligemma4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.DetectionParser;

/** Box IoU, greedy matching and precision/recall at IoU 0.5, on boxes whose overlaps are worked out by hand. */
class DetectionScoreTest {

    private static List<Detection> objects(String text) {
        return DetectionParser.detections(text, 640, 480);
    }

    private static String box(int y1, int x1, int y2, int x2, String label) {
        return String.format("<loc%04d><loc%04d><loc%04d><loc%04d> %s", y1, x1, y2, x2, label);
    }

    @Test
    void overlapsComputedByHand() {
        // [0,0,512,512] vs [0,256,512,768]: intersection 512·256, union 2·512² − 512·256 → IoU 1/3 (the /1023 scale cancels).
        DetectionScore.Example half = DetectionScore.match(objects(box(0, 256, 512, 768, "cat")), objects(box(0, 0, 512, 512, "cat")));
        assertArrayEquals(new double[] {1.0 / 3}, half.targetBestIou(), 1e-12);
        assertEquals(0, half.matches(), "1/3 is under 0.5");
        // [0,0,512,512] vs [0,0,512,384]: the smaller inside the larger, IoU 384/512 = 0.75.
        DetectionScore.Example inside = DetectionScore.match(objects(box(0, 0, 512, 384, "cat")), objects(box(0, 0, 512, 512, "cat")));
        assertArrayEquals(new double[] {0.75}, inside.targetBestIou(), 1e-12);
        assertEquals(1, inside.matches());
    }

    @Test
    void labelsMustMatch() {
        DetectionScore.Example e = DetectionScore.match(objects(box(0, 0, 512, 512, "dog")), objects(box(0, 0, 512, 512, "cat")));
        assertEquals(0, e.matches());
        assertArrayEquals(new double[] {0.0}, e.targetBestIou(), 0);
    }

    @Test
    void eachTargetMatchesOnePredictionAndTheBestPairGoesFirst() {
        // Targets A [0,0,512,512] and B [0,0,512,640]. Prediction P1 = A exactly; P2 = [0,0,512,600].
        // IoUs: P1·A 1, P1·B 0.8, P2·A 512/600, P2·B 600/640. Greedy: P1·A (1) first, then P2·B (0.9375).
        String predicted = box(0, 0, 512, 512, "cat") + " ; " + box(0, 0, 512, 600, "cat") + " ; " + box(600, 600, 700, 700, "cat");
        String target = box(0, 0, 512, 512, "cat") + " ; " + box(0, 0, 512, 640, "cat");
        DetectionScore score = new DetectionScore();
        DetectionScore.Example e = score.add(objects(predicted), objects(target));
        assertEquals(2, e.matches());
        assertArrayEquals(new double[] {1.0, 600.0 / 640}, e.targetBestIou(), 1e-12);
        // A second example: a duplicate prediction of one target.
        score.add(objects(box(0, 0, 100, 100, "dog") + " ; " + box(0, 0, 100, 100, "dog")), objects(box(0, 0, 100, 100, "dog")));
        assertEquals(5, score.predictions());
        assertEquals(3, score.targets());
        assertEquals(3, score.matches());
        assertEquals(3.0 / 5, score.precision(), 1e-12);
        assertEquals(1.0, score.recall(), 1e-12);
        assertEquals(2 * 0.6 / 1.6, score.f1(), 1e-12);
        assertEquals((1.0 + 600.0 / 640 + 1.0) / 3, score.boxIou(), 1e-12);
    }

    @Test
    void anInvertedPredictedBoxCountsButMatchesNothing() {
        DetectionScore score = new DetectionScore();
        score.add(objects(box(512, 512, 0, 0, "cat")), objects(box(0, 0, 512, 512, "cat")));
        assertEquals(0.0, score.precision(), 0);
        assertEquals(0.0, score.recall(), 0);
        assertEquals(0.0, score.f1(), 0);
    }

    @Test
    void nothingPredictedAndNothingToFindIsPerfect() {
        DetectionScore score = new DetectionScore();
        score.add(List.of(), List.of());
        assertEquals(1.0, score.precision(), 0);
        assertEquals(1.0, score.recall(), 0);
        assertTrue(Double.isNaN(score.boxIou()), "no target box to average over");
    }
}
