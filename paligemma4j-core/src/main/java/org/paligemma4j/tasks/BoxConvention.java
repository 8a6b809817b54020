package org.paligemma4j.tasks;

/**
 * How location tokens become pixels. The two conventions in use differ by up to one pixel at the far edge
 * (loc 1023 on 640 px: 640 versus 639), so the choice is explicit.
 */
public enum BoxConvention {

    /**
     * big_vision's evaluator (the default): {@code (int) ((loc / 1023.0) * size)}, a float64 product then
     * truncation. Integer arithmetic {@code loc * size / 1023} is not the same: loc 279 on 55 px gives 14
     * here but 15 there.
     */
    BIG_VISION {
        @Override
        int toPixel(int loc, int size) {
            return (int) ((loc / 1023.0) * size);
        }
    },

    /**
     * The Hugging Face Space {@code big-vision/paligemma-hf} and ports derived from it:
     * {@code round(loc / 1024 * size)} with Python's round-half-to-even.
     */
    HF_SPACE {
        @Override
        int toPixel(int loc, int size) {
            return (int) Math.rint((loc / 1024.0) * size);
        }
    };

    abstract int toPixel(int loc, int size);

    /** The pixel box of {@code loc} on an image of {@code width x height}. */
    public PixelBox toPixels(LocationTokens loc, int width, int height) {
        return new PixelBox(toPixel(loc.y1(), height), toPixel(loc.x1(), width),
                toPixel(loc.y2(), height), toPixel(loc.x2(), width));
    }
}
