package org.paligemma4j.tasks;

/**
 * Places a decoded 64x64 mask into its box on the full image, exactly as big_vision's segmentation evaluator
 * does: resize the float map to the pixel box with Pillow's bilinear filter, threshold {@code > 0.0}, and set
 * rows {@code yMin..yMax-1}, columns {@code xMin..xMax-1}. An empty box gives an empty mask.
 */
public final class MaskPaster {

    private MaskPaster() {}

    /** The full-image mask of {@code detection}: empty unless it is a {@link Detection#validSegment()}. */
    public static BinaryMask paste(float[] mask64, Detection detection) {
        if (!detection.validSegment()) return BinaryMask.empty(detection.imageWidth(), detection.imageHeight());
        return paste(mask64, detection.pixelBox(), detection.imageWidth(), detection.imageHeight());
    }

    /**
     * Pastes {@code mask64} (64x64 row-major, as {@link MaskDecoder#decode} returns) into {@code box} on a
     * {@code width x height} image; the part of the box outside the image, if any, is dropped.
     */
    public static BinaryMask paste(float[] mask64, PixelBox box, int width, int height) {
        int size = MaskDecoder.SIZE;
        if (mask64.length != size * size) {
            throw new IllegalArgumentException("expected a 64x64 mask (4096 values), got " + mask64.length);
        }
        BinaryMask empty = BinaryMask.empty(width, height);
        if (box.isEmpty()) return empty;
        float[] resized = resizeToBox(mask64, box);
        boolean[] pixels = empty.toArray();
        for (int by = 0; by < box.height(); by++) {
            int y = box.yMin() + by;
            if (y < 0 || y >= height) continue;
            for (int bx = 0; bx < box.width(); bx++) {
                int x = box.xMin() + bx;
                if (x < 0 || x >= width) continue;
                pixels[y * width + x] = resized[by * box.width() + bx] > 0.0f;
            }
        }
        return BinaryMask.wrap(width, height, pixels);
    }

    /** The float map scaled to the box size (box rows x box columns, row-major), before the threshold. */
    static float[] resizeToBox(float[] mask64, PixelBox box) {
        return PilBilinearResize.resize(mask64, MaskDecoder.SIZE, MaskDecoder.SIZE, box.width(), box.height());
    }
}
