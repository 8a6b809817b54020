package org.paligemma4j.tasks;

import java.util.Arrays;

/** A full-image object mask: {@code width x height} pixels, row-major, true inside the object. */
public final class BinaryMask {

    private final int width;
    private final int height;
    private final boolean[] pixels;

    private BinaryMask(int width, int height, boolean[] pixels) {
        this.width = width;
        this.height = height;
        this.pixels = pixels;
    }

    /** A mask over a copy of {@code pixels} ({@code [y * width + x]}). */
    public static BinaryMask of(int width, int height, boolean[] pixels) {
        checkSize(width, height);
        if (pixels.length != (long) width * height) {
            throw new IllegalArgumentException("mask of " + width + "x" + height + " needs " + (long) width * height
                    + " pixels, got " + pixels.length);
        }
        return new BinaryMask(width, height, pixels.clone());
    }

    public static BinaryMask empty(int width, int height) {
        checkSize(width, height);
        return new BinaryMask(width, height, new boolean[Math.multiplyExact(width, height)]);
    }

    /** Takes ownership of {@code pixels}: for builders in this package that will not touch it again. */
    static BinaryMask wrap(int width, int height, boolean[] pixels) {
        return new BinaryMask(width, height, pixels);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public boolean get(int x, int y) {
        return pixels[y * width + x];
    }

    /** Number of pixels inside the object. */
    public long count() {
        long n = 0;
        for (boolean p : pixels) if (p) n++;
        return n;
    }

    /**
     * COCO's uncompressed run-length encoding: runs down the columns (column-major), alternating background and
     * mask, starting with background (so the first run may be 0).
     */
    public long[] cocoRunLengths() {
        java.util.List<Long> counts = new java.util.ArrayList<>();
        boolean current = false;
        long run = 0;
        for (int x = 0; x < width(); x++) {
            for (int y = 0; y < height(); y++) {
                if (get(x, y) != current) {
                    counts.add(run);
                    current = !current;
                    run = 0;
                }
                run++;
            }
        }
        counts.add(run);
        return counts.stream().mapToLong(Long::longValue).toArray();
    }

    public boolean[] toArray() {
        return pixels.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BinaryMask m && m.width == width && m.height == height && Arrays.equals(m.pixels, pixels);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(pixels);
    }

    @Override
    public String toString() {
        return "BinaryMask[" + width + "x" + height + ", " + count() + " pixels set]";
    }

    private static void checkSize(int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("mask size must be positive, got " + width + "x" + height);
        }
    }
}
