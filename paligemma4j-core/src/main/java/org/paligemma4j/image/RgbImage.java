package org.paligemma4j.image;

/**
 * An 8-bit RGB image, rows top to bottom, pixels interleaved: {@code rgb[(y * width + x) * 3 + c]}
 * ({@code [height, width, 3]}, like a PIL "RGB" image as a numpy array). The array is shared, not
 * copied: treat it as read-only once the image is built.
 */
public record RgbImage(int width, int height, byte[] rgb) {

    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (rgb == null || (long) width * height * 3 != rgb.length) {
            throw new IllegalArgumentException("a " + width + "x" + height + " RGB image needs "
                    + (long) width * height * 3 + " bytes, got " + (rgb == null ? "null" : rgb.length));
        }
    }

    /** Channel {@code c} (0 = red, 1 = green, 2 = blue) of pixel (x, y), 0..255. */
    public int get(int x, int y, int c) {
        return rgb[(y * width + x) * 3 + c] & 0xff;
    }
}
