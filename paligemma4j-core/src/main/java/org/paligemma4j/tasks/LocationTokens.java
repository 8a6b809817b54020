package org.paligemma4j.tasks;

/**
 * The four {@code <locNNNN>} values of one detected object, in the model's order (y1, x1, y2, x2), as written.
 * PaliGemma places 1024 bins over the resized square image; since that resize squashes without padding, a
 * value maps straight onto the original height or width. Values are kept unchecked (a 4-digit token may
 * say 9999) so that validity is a question, not a parse failure.
 */
public record LocationTokens(int y1, int x1, int y2, int x2) {

    /** The largest location token: big_vision encodes a coordinate as {@code round(v * 1023)}. */
    public static final int MAX = 1023;

    /** Every value is a real token (0..1023). */
    public boolean inRange() {
        return in(y1) && in(x1) && in(y2) && in(x2);
    }

    /** big_vision's token-level box check: in range and strictly ordered ({@code y2 > y1}, {@code x2 > x1}). */
    public boolean isValidBox() {
        return inRange() && y2 > y1 && x2 > x1;
    }

    /** The box in [0, 1] image coordinates, {@code value / 1023} as big_vision decodes it. */
    public NormalizedBox normalized() {
        return new NormalizedBox(y1 / (double) MAX, x1 / (double) MAX, y2 / (double) MAX, x2 / (double) MAX);
    }

    /**
     * The tokens of a pixel box on a {@code width x height} image: the inverse of {@link #normalized()}, each
     * coordinate {@code round(pixel / size * 1023)} clamped to 0..1023, so decoding lands within one bin.
     */
    public static LocationTokens of(PixelBox box, int width, int height) {
        return new LocationTokens(bin(box.yMin(), height), bin(box.xMin(), width), bin(box.yMax(), height),
                bin(box.xMax(), width));
    }

    private static int bin(int pixel, int size) {
        return (int) Math.max(0, Math.min(MAX, Math.round(pixel / (double) size * MAX)));
    }

    /** The four tokens as the model writes them: {@code <loc0012><loc0345><loc0678><loc0901>}. */
    public String text() {
        return String.format(java.util.Locale.ROOT, "<loc%04d><loc%04d><loc%04d><loc%04d>", y1, x1, y2, x2);
    }

    public int[] toArray() {
        return new int[] {y1, x1, y2, x2};
    }

    private static boolean in(int v) {
        return v >= 0 && v <= MAX;
    }
}
