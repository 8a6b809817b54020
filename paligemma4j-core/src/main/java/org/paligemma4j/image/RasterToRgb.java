package org.paligemma4j.image;

import java.awt.image.Raster;
import java.util.function.IntUnaryOperator;

/** Builds {@link RgbImage}s from decoded rasters with an explicit per-sample rule (no colour management). */
final class RasterToRgb {

    private RasterToRgb() {}

    /**
     * Red, green and blue from the given bands (the same band three times for gray), each sample
     * mapped to 8 bits by {@code to8Bits}. Bands not named (alpha) are dropped, not composited.
     */
    static RgbImage fromBands(Raster raster, int[] rgbBands, IntUnaryOperator to8Bits) {
        return fromBands(raster, rgbBands, new IntUnaryOperator[] {to8Bits, to8Bits, to8Bits});
    }

    /** As above with one rule per channel (fields of different widths, such as 5-6-5). */
    static RgbImage fromBands(Raster raster, int[] rgbBands, IntUnaryOperator[] to8Bits) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        byte[] out = new byte[w * h * 3];
        int[] row = new int[w];
        int x0 = raster.getMinX();
        int y0 = raster.getMinY();
        for (int c = 0; c < 3; c++) {
            IntUnaryOperator rule = to8Bits[c];
            for (int y = 0; y < h; y++) {
                raster.getSamples(x0, y0 + y, w, 1, rgbBands[c], row);
                int o = y * w * 3 + c;
                for (int x = 0; x < w; x++, o += 3) {
                    out[o] = (byte) rule.applyAsInt(row[x]);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    /**
     * Palette lookup of band 0. Indices past the end of the palette read as black, as in current
     * Pillow, whose palette starts zeroed.
     */
    static RgbImage fromPalette(Raster raster, byte[] paletteRgb) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        byte[] lut = new byte[256 * 3];
        System.arraycopy(paletteRgb, 0, lut, 0, Math.min(paletteRgb.length, lut.length));
        byte[] out = new byte[w * h * 3];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 0, row);
            int o = y * w * 3;
            for (int x = 0; x < w; x++) {
                int i = (row[x] & 0xff) * 3;
                out[o++] = lut[i];
                out[o++] = lut[i + 1];
                out[o++] = lut[i + 2];
            }
        }
        return new RgbImage(w, h, out);
    }

    /** Scales an n-bit sample to 8 bits with integer division, as PIL unpacks 1/2/4/5/6-bit fields. */
    static IntUnaryOperator scaleBits(int bits) {
        if (bits == 8) {
            return IntUnaryOperator.identity();
        }
        int max = (1 << bits) - 1;
        return v -> v * 255 / max;
    }
}
