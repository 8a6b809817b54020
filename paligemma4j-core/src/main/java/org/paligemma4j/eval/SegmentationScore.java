package org.paligemma4j.eval;

import java.util.List;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.Iou;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.tasks.MaskPaster;

/**
 * Mask IoU over a data set, the referring-segmentation metrics (RefCOCO): per example the predicted mask and the
 * target mask are each the union of the full-image masks of the example's objects, decoded from their 16
 * {@code <seg>} tokens by big_vision's mask VQ-VAE and pasted into their boxes ({@link MaskPaster}, as big_vision's
 * evaluator does); targets are written with the same tokens as predictions. Then
 * <ul>
 *   <li>mIoU = the mean over examples of {@link Iou#mask} (0 when both masks are empty), and</li>
 *   <li>cIoU = Σ |P ∩ T| / Σ |P ∪ T| over all examples ("overall IoU": large objects weigh more).</li>
 * </ul>
 * An object without valid {@code <seg>} tokens contributes no pixels. Not thread-safe.
 */
public final class SegmentationScore {
    private long examples;
    private double iouSum;
    private long intersection;
    private long union;

    /** Adds one example's predicted and target masks (same size); returns its IoU. */
    public double add(BinaryMask predicted, BinaryMask target) {
        double iou = Iou.mask(predicted, target);
        long both = 0;
        long either = 0;
        for (int y = 0; y < target.height(); y++) {
            for (int x = 0; x < target.width(); x++) {
                boolean p = predicted.get(x, y);
                boolean t = target.get(x, y);
                if (p && t) both++;
                if (p || t) either++;
            }
        }
        examples++;
        iouSum += iou;
        intersection += both;
        union += either;
        return iou;
    }

    /**
     * The union of the masks of {@code objects} on a {@code width x height} image, each decoded by {@code decoder};
     * objects that are not valid segments add nothing.
     */
    public static BinaryMask unionMask(List<Detection> objects, MaskDecoder decoder, int width, int height) {
        boolean[] pixels = new boolean[Math.multiplyExact(width, height)];
        for (Detection d : objects) {
            if (!d.validSegment()) continue;
            BinaryMask m = MaskPaster.paste(decoder.decode(d.segIndices()), d);
            boolean[] mp = m.toArray();
            for (int i = 0; i < pixels.length; i++) pixels[i] |= mp[i];
        }
        return BinaryMask.of(width, height, pixels);
    }

    public long examples() {
        return examples;
    }

    /** Mean per-example IoU; NaN before any example. */
    public double meanIou() {
        return examples == 0 ? Double.NaN : iouSum / examples;
    }

    /** Cumulative intersection over cumulative union; 0 when every mask was empty, NaN before any example. */
    public double cumulativeIou() {
        return examples == 0 ? Double.NaN : union == 0 ? 0.0 : (double) intersection / union;
    }
}
