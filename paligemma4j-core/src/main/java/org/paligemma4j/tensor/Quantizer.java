package org.paligemma4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Symmetric block quantization of one 32-weight block, vectorised (it runs over billions of weights at
 * load time). Rounding is to nearest, ties to even, via the float32 magic-number trick, which is exact
 * for the small integers involved.
 */
final class Quantizer {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4));
    /** 1.5·2^23: adding and subtracting it rounds any |x| < 2^22 to an integer. */
    private static final float ROUNDER = 12582912f;

    private Quantizer() {}

    /** max |w| over row[c0, c0 + 32). */
    static float absMax(float[] row, int c0) {
        return FloatVector.fromArray(F, row, c0).abs().max(FloatVector.fromArray(F, row, c0 + L).abs())
                .reduceLanes(VectorOperators.MAX);
    }

    /** The weight of row[c0, c0 + 32) with the largest magnitude, sign included (the first such on a tie of ±). */
    static float signedAbsMax(float[] row, int c0) {
        FloatVector a = FloatVector.fromArray(F, row, c0), b = FloatVector.fromArray(F, row, c0 + L);
        float max = a.max(b).reduceLanes(VectorOperators.MAX), min = a.min(b).reduceLanes(VectorOperators.MIN);
        return -min > max ? min : max;
    }

    /** round(row[c0 …] · inv) clamped to [lo, hi], as int lanes. */
    static IntVector quantize(float[] row, int c0, float inv, int lo, int hi) {
        FloatVector v = FloatVector.fromArray(F, row, c0).mul(inv).add(ROUNDER).sub(ROUNDER);
        IntVector q = (IntVector) v.convert(VectorOperators.F2I, 0);
        return q.max(lo).min(hi);
    }

    /** Writes the 16 low bytes of int lanes to {@code out[offset…]}. */
    static void storeBytes(IntVector v, byte[] out, int offset) {
        ((ByteVector) v.convertShape(VectorOperators.I2B, B, 0)).intoArray(out, offset);
    }
}
