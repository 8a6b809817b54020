package org.paligemma4j.tasks;

import java.util.List;
import java.util.Objects;

/**
 * One object of a detect/segment output, on an image of {@code imageWidth x imageHeight}. Malformed objects
 * (inverted box, out-of-range token, box that collapses to nothing in pixels) are kept and answer
 * {@link #valid()} with {@code false}, so that callers see what the model said instead of an exception.
 *
 * @param span the matched text, from the first {@code <loc>} through the label and its {@code "; "} separator
 * @param label the label with surrounding whitespace stripped, or null when there is none
 * @param labelRaw the label exactly as written (may keep trailing spaces or a newline), or null
 * @param loc the four location tokens
 * @param seg the 16 {@code <seg>} values in output order, or null for a box without a mask (detect)
 */
public record Detection(String span, String label, String labelRaw, LocationTokens loc, List<Integer> seg,
                        int imageWidth, int imageHeight) implements OutputItem {

    /** Number of {@code <seg>} tokens that describe one mask. */
    public static final int SEG_TOKENS = 16;
    /** The largest {@code <seg>} token (the mask codebook has 128 rows). */
    public static final int SEG_MAX = 127;

    public Detection {
        Objects.requireNonNull(span, "span");
        Objects.requireNonNull(loc, "loc");
        if (seg != null) {
            seg = List.copyOf(seg);
            if (seg.size() != SEG_TOKENS) {
                throw new IllegalArgumentException("a mask needs " + SEG_TOKENS + " seg tokens, got " + seg.size());
            }
        }
        if (imageWidth <= 0 || imageHeight <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + imageWidth + "x" + imageHeight);
        }
    }

    public boolean hasSeg() {
        return seg != null;
    }

    /** The seg tokens as the mask decoder takes them; fails when this object has none. */
    public int[] segIndices() {
        if (seg == null) throw new IllegalStateException("this detection has no seg tokens");
        return seg.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The box in [0, 1] coordinates ({@code loc / 1023}). */
    public NormalizedBox normalizedBox() {
        return loc.normalized();
    }

    /** The box in original-image pixels, big_vision convention. */
    public PixelBox pixelBox() {
        return pixelBox(BoxConvention.BIG_VISION);
    }

    public PixelBox pixelBox(BoxConvention convention) {
        return convention.toPixels(loc, imageWidth, imageHeight);
    }

    /** Location tokens in range and strictly ordered. */
    public boolean boxValid() {
        return loc.isValidBox();
    }

    /** The pixel box is not empty (a token-valid tiny box can still collapse after truncation). */
    public boolean pixelBoxValid() {
        return !pixelBox().isEmpty();
    }

    /** Seg tokens present and all within 0..127. */
    public boolean segValid() {
        return seg != null && seg.stream().allMatch(v -> v >= 0 && v <= SEG_MAX);
    }

    /** A usable object: valid box, non-empty pixel box, and valid seg tokens if it has any. */
    public boolean valid() {
        return boxValid() && pixelBoxValid() && (seg == null || segValid());
    }

    /** A usable object that also carries a mask. */
    public boolean validSegment() {
        return valid() && seg != null;
    }
}
