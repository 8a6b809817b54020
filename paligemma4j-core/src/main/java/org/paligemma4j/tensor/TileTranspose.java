package org.paligemma4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packs a 16×16 tile of a weight matrix transposed into a GEMM panel, in registers: the recursive block
 * transpose, which at each level swaps the off-diagonal h×h blocks of every 2h×2h block (h = 8, 4, 2, 1),
 * one two-table lane selection per row and level (indexes 0–15 pick from the first vector, 16–31 from
 * the second): {@code selectFrom(v1, v2)} is one permute instruction, where a two-vector
 * {@code rearrange} with exceptional lanes took two permutes and a blend (packing weights ran 30%
 * slower). Written out with locals (no arrays of vectors) so the sixteen rows stay in registers. Only
 * for 16-lane (512-bit) vectors.
 */
final class TileTranspose {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    static final boolean SUPPORTED = FloatVector.SPECIES_PREFERRED.length() == 16;
    private static final FloatVector UPPER_8 = indexes(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    private static final FloatVector LOWER_8 = indexes(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    private static final FloatVector UPPER_4 = indexes(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
    private static final FloatVector LOWER_4 = indexes(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    private static final FloatVector UPPER_2 = indexes(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
    private static final FloatVector LOWER_2 = indexes(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    private static final FloatVector UPPER_1 = indexes(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
    private static final FloatVector LOWER_1 = indexes(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);

    private TileTranspose() {}

    private static FloatVector indexes(int... lanes) {
        float[] values = new float[lanes.length];
        for (int i = 0; i < lanes.length; i++) values[i] = lanes[i];
        return FloatVector.fromArray(F, values, 0);
    }

    /**
     * {@code out[offset + c·stride + r] = W[r][c]} for the whole matrix: 16×16 tiles in registers where
     * supported, single elements at the ragged edges.
     */
    static void transpose(ArrayMatrix w, float[] out, int offset, int stride) {
        int rows = w.rows(), cols = w.cols();
        int tiledRows = SUPPORTED ? rows - rows % 16 : 0, tiledCols = SUPPORTED ? cols - cols % 16 : 0;
        for (int r = 0; r < tiledRows; r += 16) {
            for (int c = 0; c < tiledCols; c += 16) pack(w, r, c, out, offset + c * stride + r, stride);
        }
        for (int r = 0; r < rows; r++) {
            for (int c = r < tiledRows ? tiledCols : 0; c < cols; c++) out[offset + c * stride + r] = w.get(r, c);
        }
    }

    /** panel[(kk + c)·width + j0 + i] = W[r0 + i][k0 + c] for i, c in 0..15. */
    static void pack(ArrayMatrix w, int r0, int k0, float[] panel, int offset, int width) {
        FloatVector a0 = w.load(r0 + 0, k0);
        FloatVector a1 = w.load(r0 + 1, k0);
        FloatVector a2 = w.load(r0 + 2, k0);
        FloatVector a3 = w.load(r0 + 3, k0);
        FloatVector a4 = w.load(r0 + 4, k0);
        FloatVector a5 = w.load(r0 + 5, k0);
        FloatVector a6 = w.load(r0 + 6, k0);
        FloatVector a7 = w.load(r0 + 7, k0);
        FloatVector a8 = w.load(r0 + 8, k0);
        FloatVector a9 = w.load(r0 + 9, k0);
        FloatVector a10 = w.load(r0 + 10, k0);
        FloatVector a11 = w.load(r0 + 11, k0);
        FloatVector a12 = w.load(r0 + 12, k0);
        FloatVector a13 = w.load(r0 + 13, k0);
        FloatVector a14 = w.load(r0 + 14, k0);
        FloatVector a15 = w.load(r0 + 15, k0);
        FloatVector b0 = UPPER_8.selectFrom(a0, a8);
        FloatVector b8 = LOWER_8.selectFrom(a0, a8);
        FloatVector b1 = UPPER_8.selectFrom(a1, a9);
        FloatVector b9 = LOWER_8.selectFrom(a1, a9);
        FloatVector b2 = UPPER_8.selectFrom(a2, a10);
        FloatVector b10 = LOWER_8.selectFrom(a2, a10);
        FloatVector b3 = UPPER_8.selectFrom(a3, a11);
        FloatVector b11 = LOWER_8.selectFrom(a3, a11);
        FloatVector b4 = UPPER_8.selectFrom(a4, a12);
        FloatVector b12 = LOWER_8.selectFrom(a4, a12);
        FloatVector b5 = UPPER_8.selectFrom(a5, a13);
        FloatVector b13 = LOWER_8.selectFrom(a5, a13);
        FloatVector b6 = UPPER_8.selectFrom(a6, a14);
        FloatVector b14 = LOWER_8.selectFrom(a6, a14);
        FloatVector b7 = UPPER_8.selectFrom(a7, a15);
        FloatVector b15 = LOWER_8.selectFrom(a7, a15);
        FloatVector c0 = UPPER_4.selectFrom(b0, b4);
        FloatVector c4 = LOWER_4.selectFrom(b0, b4);
        FloatVector c1 = UPPER_4.selectFrom(b1, b5);
        FloatVector c5 = LOWER_4.selectFrom(b1, b5);
        FloatVector c2 = UPPER_4.selectFrom(b2, b6);
        FloatVector c6 = LOWER_4.selectFrom(b2, b6);
        FloatVector c3 = UPPER_4.selectFrom(b3, b7);
        FloatVector c7 = LOWER_4.selectFrom(b3, b7);
        FloatVector c8 = UPPER_4.selectFrom(b8, b12);
        FloatVector c12 = LOWER_4.selectFrom(b8, b12);
        FloatVector c9 = UPPER_4.selectFrom(b9, b13);
        FloatVector c13 = LOWER_4.selectFrom(b9, b13);
        FloatVector c10 = UPPER_4.selectFrom(b10, b14);
        FloatVector c14 = LOWER_4.selectFrom(b10, b14);
        FloatVector c11 = UPPER_4.selectFrom(b11, b15);
        FloatVector c15 = LOWER_4.selectFrom(b11, b15);
        FloatVector d0 = UPPER_2.selectFrom(c0, c2);
        FloatVector d2 = LOWER_2.selectFrom(c0, c2);
        FloatVector d1 = UPPER_2.selectFrom(c1, c3);
        FloatVector d3 = LOWER_2.selectFrom(c1, c3);
        FloatVector d4 = UPPER_2.selectFrom(c4, c6);
        FloatVector d6 = LOWER_2.selectFrom(c4, c6);
        FloatVector d5 = UPPER_2.selectFrom(c5, c7);
        FloatVector d7 = LOWER_2.selectFrom(c5, c7);
        FloatVector d8 = UPPER_2.selectFrom(c8, c10);
        FloatVector d10 = LOWER_2.selectFrom(c8, c10);
        FloatVector d9 = UPPER_2.selectFrom(c9, c11);
        FloatVector d11 = LOWER_2.selectFrom(c9, c11);
        FloatVector d12 = UPPER_2.selectFrom(c12, c14);
        FloatVector d14 = LOWER_2.selectFrom(c12, c14);
        FloatVector d13 = UPPER_2.selectFrom(c13, c15);
        FloatVector d15 = LOWER_2.selectFrom(c13, c15);
        FloatVector e0 = UPPER_1.selectFrom(d0, d1);
        FloatVector e1 = LOWER_1.selectFrom(d0, d1);
        FloatVector e2 = UPPER_1.selectFrom(d2, d3);
        FloatVector e3 = LOWER_1.selectFrom(d2, d3);
        FloatVector e4 = UPPER_1.selectFrom(d4, d5);
        FloatVector e5 = LOWER_1.selectFrom(d4, d5);
        FloatVector e6 = UPPER_1.selectFrom(d6, d7);
        FloatVector e7 = LOWER_1.selectFrom(d6, d7);
        FloatVector e8 = UPPER_1.selectFrom(d8, d9);
        FloatVector e9 = LOWER_1.selectFrom(d8, d9);
        FloatVector e10 = UPPER_1.selectFrom(d10, d11);
        FloatVector e11 = LOWER_1.selectFrom(d10, d11);
        FloatVector e12 = UPPER_1.selectFrom(d12, d13);
        FloatVector e13 = LOWER_1.selectFrom(d12, d13);
        FloatVector e14 = UPPER_1.selectFrom(d14, d15);
        FloatVector e15 = LOWER_1.selectFrom(d14, d15);
        e0.intoArray(panel, offset + 0 * width);
        e1.intoArray(panel, offset + 1 * width);
        e2.intoArray(panel, offset + 2 * width);
        e3.intoArray(panel, offset + 3 * width);
        e4.intoArray(panel, offset + 4 * width);
        e5.intoArray(panel, offset + 5 * width);
        e6.intoArray(panel, offset + 6 * width);
        e7.intoArray(panel, offset + 7 * width);
        e8.intoArray(panel, offset + 8 * width);
        e9.intoArray(panel, offset + 9 * width);
        e10.intoArray(panel, offset + 10 * width);
        e11.intoArray(panel, offset + 11 * width);
        e12.intoArray(panel, offset + 12 * width);
        e13.intoArray(panel, offset + 13 * width);
        e14.intoArray(panel, offset + 14 * width);
        e15.intoArray(panel, offset + 15 * width);
    }
}
