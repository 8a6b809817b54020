package org.paligemma4j.tasks;

/** Intersection over union, with the arithmetic of big_vision's segmentation evaluator. */
public final class Iou {

    private Iou() {}

    /**
     * Box IoU in [0, 1] coordinates: {@code area(a ∩ b) / (area(a) + area(b) - area(a ∩ b))} with
     * {@link NormalizedBox#area()}; 0 when both boxes are empty. big_vision scores a rejected prediction as
     * {@link NormalizedBox#ZERO}.
     */
    public static double box(NormalizedBox a, NormalizedBox b) {
        NormalizedBox inter = new NormalizedBox(Math.max(a.yMin(), b.yMin()), Math.max(a.xMin(), b.xMin()),
                Math.min(a.yMax(), b.yMax()), Math.min(a.xMax(), b.xMax()));
        double union = a.area() + b.area() - inter.area();
        return union == 0.0 ? 0.0 : inter.area() / union;
    }

    /** Mask IoU {@code |a ∧ b| / (|a| + |b| - |a ∧ b|)} over the full image; 0 when both are empty. */
    public static double mask(BinaryMask a, BinaryMask b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            throw new IllegalArgumentException("masks differ in size: " + a.width() + "x" + a.height() + " and "
                    + b.width() + "x" + b.height());
        }
        long countA = 0;
        long countB = 0;
        long both = 0;
        for (int y = 0; y < a.height(); y++) {
            for (int x = 0; x < a.width(); x++) {
                boolean pa = a.get(x, y);
                boolean pb = b.get(x, y);
                if (pa) countA++;
                if (pb) countB++;
                if (pa && pb) both++;
            }
        }
        long union = countA + countB - both;
        return union == 0 ? 0.0 : (double) both / union;
    }
}
