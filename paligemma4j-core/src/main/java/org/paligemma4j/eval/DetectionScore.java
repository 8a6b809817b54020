package org.paligemma4j.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.Iou;
import org.paligemma4j.tasks.NormalizedBox;

/**
 * Detection scores over a data set, with objects as {@link org.paligemma4j.tasks.DetectionParser} reads them from
 * {@code <locNNNN>} strings (predictions and targets alike). Boxes are compared by {@link Iou#box} in [0, 1]
 * coordinates; a predicted object whose location tokens are not a valid box counts as the empty box (as big_vision
 * scores a rejected prediction).
 *
 * <p>Per example, predictions are matched to targets one-to-one and greedily: among the pairs with equal labels
 * (stripped, case-sensitive) and IoU ≥ {@link #IOU_THRESHOLD}, the pair with the highest IoU is matched first
 * (ties: earlier prediction, then earlier target), then the next among the still unmatched, and so on. Over the
 * data set:
 * <ul>
 *   <li>precision = matches / predicted objects, recall = matches / target objects (micro-averaged: every object
 *       counts once), F1 their harmonic mean; a ratio 0/0 counts as 1 (nothing predicted, nothing to find);</li>
 *   <li>box IoU = the mean over target objects of the highest IoU of a predicted object with the same label
 *       (0 when there is none): for one object per image, as in RefCOCO, simply the IoU of the two boxes.</li>
 * </ul>
 * Not thread-safe: one instance accumulates one data set.
 */
public final class DetectionScore {
    /** A prediction matches a target from this IoU on. */
    public static final double IOU_THRESHOLD = 0.5;

    private long predictions;
    private long targets;
    private long matches;
    private double targetIouSum;

    /** One example's counts and each target's best IoU. */
    public record Example(int predictions, int targets, int matches, double[] targetBestIou) {}

    /** Adds one example's predicted and target objects; returns its own counts. */
    public Example add(List<Detection> predicted, List<Detection> target) {
        Example e = match(predicted, target);
        predictions += e.predictions();
        targets += e.targets();
        matches += e.matches();
        for (double iou : e.targetBestIou()) targetIouSum += iou;
        return e;
    }

    /** Greedy one-to-one matching of one example (see the class documentation). */
    public static Example match(List<Detection> predicted, List<Detection> target) {
        record Pair(int p, int t, double iou) {}
        List<Pair> pairs = new ArrayList<>();
        double[] best = new double[target.size()];
        for (int p = 0; p < predicted.size(); p++) {
            for (int t = 0; t < target.size(); t++) {
                if (!Objects.equals(predicted.get(p).label(), target.get(t).label())) continue;
                double iou = Iou.box(box(predicted.get(p)), box(target.get(t)));
                best[t] = Math.max(best[t], iou);
                if (iou >= IOU_THRESHOLD) pairs.add(new Pair(p, t, iou));
            }
        }
        pairs.sort(Comparator.comparingDouble(Pair::iou).reversed().thenComparingInt(Pair::p).thenComparingInt(Pair::t));
        boolean[] usedP = new boolean[predicted.size()];
        boolean[] usedT = new boolean[target.size()];
        int matched = 0;
        for (Pair pair : pairs) {
            if (usedP[pair.p()] || usedT[pair.t()]) continue;
            usedP[pair.p()] = true;
            usedT[pair.t()] = true;
            matched++;
        }
        return new Example(predicted.size(), target.size(), matched, best);
    }

    private static NormalizedBox box(Detection d) {
        return d.boxValid() ? d.normalizedBox() : NormalizedBox.ZERO;
    }

    public long predictions() {
        return predictions;
    }

    public long targets() {
        return targets;
    }

    public long matches() {
        return matches;
    }

    /** matches / predicted objects (1 when nothing was predicted). */
    public double precision() {
        return predictions == 0 ? 1.0 : (double) matches / predictions;
    }

    /** matches / target objects (1 when there was nothing to find). */
    public double recall() {
        return targets == 0 ? 1.0 : (double) matches / targets;
    }

    /** Harmonic mean of precision and recall (0 when both are 0). */
    public double f1() {
        double p = precision();
        double r = recall();
        return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
    }

    /** Mean over target objects of their best same-label IoU; NaN when there were no targets. */
    public double boxIou() {
        return targets == 0 ? Double.NaN : targetIouSum / targets;
    }
}
