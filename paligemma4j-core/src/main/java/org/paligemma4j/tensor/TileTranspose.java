package org.paligemma4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packs a 16×16 tile of a weight matrix transposed into a GEMM panel, in registers: the recursive block
 * transpose, which at each level swaps the off-diagonal h×h blocks of every 2h×2h block (h = 8, 4, 2, 1),
 * one two-vector rearrangement per row and level. Written out with locals (no arrays of vectors) so the
 * sixteen rows stay in registers. Only for 16-lane (512-bit) vectors.
 */
final class TileTranspose {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    static final boolean SUPPORTED = FloatVector.SPECIES_PREFERRED.length() == 16;
    private static final VectorShuffle<Float> UPPER_8 = VectorShuffle.fromValues(F, 0, 1, 2, 3, 4, 5, 6, 7, -16, -15, -14, -13, -12, -11, -10, -9);
    private static final VectorShuffle<Float> LOWER_8 = VectorShuffle.fromValues(F, 8, 9, 10, 11, 12, 13, 14, 15, -8, -7, -6, -5, -4, -3, -2, -1);
    private static final VectorShuffle<Float> UPPER_4 = VectorShuffle.fromValues(F, 0, 1, 2, 3, -16, -15, -14, -13, 8, 9, 10, 11, -8, -7, -6, -5);
    private static final VectorShuffle<Float> LOWER_4 = VectorShuffle.fromValues(F, 4, 5, 6, 7, -12, -11, -10, -9, 12, 13, 14, 15, -4, -3, -2, -1);
    private static final VectorShuffle<Float> UPPER_2 = VectorShuffle.fromValues(F, 0, 1, -16, -15, 4, 5, -12, -11, 8, 9, -8, -7, 12, 13, -4, -3);
    private static final VectorShuffle<Float> LOWER_2 = VectorShuffle.fromValues(F, 2, 3, -14, -13, 6, 7, -10, -9, 10, 11, -6, -5, 14, 15, -2, -1);
    private static final VectorShuffle<Float> UPPER_1 = VectorShuffle.fromValues(F, 0, -16, 2, -14, 4, -12, 6, -10, 8, -8, 10, -6, 12, -4, 14, -2);
    private static final VectorShuffle<Float> LOWER_1 = VectorShuffle.fromValues(F, 1, -15, 3, -13, 5, -11, 7, -9, 9, -7, 11, -5, 13, -3, 15, -1);

    private TileTranspose() {}

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
        FloatVector b0 = a0.rearrange(UPPER_8, a8);
        FloatVector b8 = a0.rearrange(LOWER_8, a8);
        FloatVector b1 = a1.rearrange(UPPER_8, a9);
        FloatVector b9 = a1.rearrange(LOWER_8, a9);
        FloatVector b2 = a2.rearrange(UPPER_8, a10);
        FloatVector b10 = a2.rearrange(LOWER_8, a10);
        FloatVector b3 = a3.rearrange(UPPER_8, a11);
        FloatVector b11 = a3.rearrange(LOWER_8, a11);
        FloatVector b4 = a4.rearrange(UPPER_8, a12);
        FloatVector b12 = a4.rearrange(LOWER_8, a12);
        FloatVector b5 = a5.rearrange(UPPER_8, a13);
        FloatVector b13 = a5.rearrange(LOWER_8, a13);
        FloatVector b6 = a6.rearrange(UPPER_8, a14);
        FloatVector b14 = a6.rearrange(LOWER_8, a14);
        FloatVector b7 = a7.rearrange(UPPER_8, a15);
        FloatVector b15 = a7.rearrange(LOWER_8, a15);
        FloatVector c0 = b0.rearrange(UPPER_4, b4);
        FloatVector c4 = b0.rearrange(LOWER_4, b4);
        FloatVector c1 = b1.rearrange(UPPER_4, b5);
        FloatVector c5 = b1.rearrange(LOWER_4, b5);
        FloatVector c2 = b2.rearrange(UPPER_4, b6);
        FloatVector c6 = b2.rearrange(LOWER_4, b6);
        FloatVector c3 = b3.rearrange(UPPER_4, b7);
        FloatVector c7 = b3.rearrange(LOWER_4, b7);
        FloatVector c8 = b8.rearrange(UPPER_4, b12);
        FloatVector c12 = b8.rearrange(LOWER_4, b12);
        FloatVector c9 = b9.rearrange(UPPER_4, b13);
        FloatVector c13 = b9.rearrange(LOWER_4, b13);
        FloatVector c10 = b10.rearrange(UPPER_4, b14);
        FloatVector c14 = b10.rearrange(LOWER_4, b14);
        FloatVector c11 = b11.rearrange(UPPER_4, b15);
        FloatVector c15 = b11.rearrange(LOWER_4, b15);
        FloatVector d0 = c0.rearrange(UPPER_2, c2);
        FloatVector d2 = c0.rearrange(LOWER_2, c2);
        FloatVector d1 = c1.rearrange(UPPER_2, c3);
        FloatVector d3 = c1.rearrange(LOWER_2, c3);
        FloatVector d4 = c4.rearrange(UPPER_2, c6);
        FloatVector d6 = c4.rearrange(LOWER_2, c6);
        FloatVector d5 = c5.rearrange(UPPER_2, c7);
        FloatVector d7 = c5.rearrange(LOWER_2, c7);
        FloatVector d8 = c8.rearrange(UPPER_2, c10);
        FloatVector d10 = c8.rearrange(LOWER_2, c10);
        FloatVector d9 = c9.rearrange(UPPER_2, c11);
        FloatVector d11 = c9.rearrange(LOWER_2, c11);
        FloatVector d12 = c12.rearrange(UPPER_2, c14);
        FloatVector d14 = c12.rearrange(LOWER_2, c14);
        FloatVector d13 = c13.rearrange(UPPER_2, c15);
        FloatVector d15 = c13.rearrange(LOWER_2, c15);
        FloatVector e0 = d0.rearrange(UPPER_1, d1);
        FloatVector e1 = d0.rearrange(LOWER_1, d1);
        FloatVector e2 = d2.rearrange(UPPER_1, d3);
        FloatVector e3 = d2.rearrange(LOWER_1, d3);
        FloatVector e4 = d4.rearrange(UPPER_1, d5);
        FloatVector e5 = d4.rearrange(LOWER_1, d5);
        FloatVector e6 = d6.rearrange(UPPER_1, d7);
        FloatVector e7 = d6.rearrange(LOWER_1, d7);
        FloatVector e8 = d8.rearrange(UPPER_1, d9);
        FloatVector e9 = d8.rearrange(LOWER_1, d9);
        FloatVector e10 = d10.rearrange(UPPER_1, d11);
        FloatVector e11 = d10.rearrange(LOWER_1, d11);
        FloatVector e12 = d12.rearrange(UPPER_1, d13);
        FloatVector e13 = d12.rearrange(LOWER_1, d13);
        FloatVector e14 = d14.rearrange(UPPER_1, d15);
        FloatVector e15 = d14.rearrange(LOWER_1, d15);
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
