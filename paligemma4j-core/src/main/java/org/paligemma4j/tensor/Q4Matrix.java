package org.paligemma4j.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * int4 weights, symmetric, with a float32 scale per block of 32 consecutive weights of a row:
 * {@code w ≈ q · scale}, q a signed nibble in [−8, 7], {@code scale = max|w| / 7}. A block is 16 bytes:
 * byte i holds weight i in its low nibble and weight i + 16 in its high nibble, so one 16-byte load,
 * sign-extended to int lanes, unpacks into two vectors of consecutive weights with arithmetic shifts
 * alone. A row's last block may be partial (zero-padded).
 */
public final class Q4Matrix extends BlockQuantizedMatrix {
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    private Q4Matrix(String name, int rows, int cols) {
        super(name, rows, cols, (cols + BLOCK - 1) / BLOCK * (BLOCK / 2)); // [rows, blocks, 16]
        if (LANES != 16) throw new IllegalStateException("Q4 layout assumes 16 float lanes, this CPU has " + LANES);
    }

    static Q4Matrix quantize(FloatMatrix source) {
        Q4Matrix m = new Q4Matrix(source.name, source.rows, source.cols);
        m.quantizeFrom(source);
        return m;
    }

    /** Whole blocks only: the padding of a partial last block quantizes to zeros. */
    @Override
    void quantizeRow(int r, float[] row) {
        for (int b = 0; b < blocksPerRow; b++) {
            int c0 = b * BLOCK;
            float scale = Quantizer.absMax(row, c0) / 7f;
            float inv = scale == 0 ? 0 : 1 / scale;
            scales[r * blocksPerRow + b] = scale;
            IntVector lo = Quantizer.quantize(row, c0, inv, -8, 7).and(15);
            IntVector hi = Quantizer.quantize(row, c0 + LANES, inv, -8, 7);
            Quantizer.storeBytes(lo.or(hi.lanewise(VectorOperators.LSHL, 4)), quantized, (r * blocksPerRow + b) * (BLOCK / 2));
        }
    }

    /** Re-opens a matrix saved with {@link #storedWeights()} and {@link #storedScales()} (no re-quantizing). */
    public static Q4Matrix fromStored(String name, int rows, int cols, MemorySegment weights, MemorySegment scales) {
        return new Q4Matrix(name, rows, cols).restore(weights, scales, Q4Matrix.class);
    }

    @Override
    public float get(int r, int c) {
        int b = c / BLOCK, i = c % BLOCK;
        int v = quantized[(r * blocksPerRow + b) * (BLOCK / 2) + (i & 15)]; // sign-extended byte
        int nibble = i < 16 ? (v << 28) >> 28 : v >> 4;
        return nibble * scales[r * blocksPerRow + b];
    }

    /** The 16 bytes of block b of row r, sign-extended to int lanes. */
    private IntVector blockBytes(int r, int b) {
        ByteVector bytes = ByteVector.fromArray(B, quantized, (r * blocksPerRow + b) * (BLOCK / 2));
        return (IntVector) bytes.convertShape(VectorOperators.B2I, I, 0);
    }

    /** Signed low nibbles: weights 0..15 of the block. */
    private static IntVector low(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28);
    }

    /** Signed high nibbles: weights 16..31 of the block. */
    private static IntVector high(IntVector v) {
        return v.lanewise(VectorOperators.ASHR, 4);
    }

    @Override
    FloatVector load(int r, int c) {
        int b = c / BLOCK;
        IntVector v = blockBytes(r, b);
        IntVector nibbles = (c & 16) == 0 ? low(v) : high(v);
        return ((FloatVector) nibbles.convert(VectorOperators.I2F, 0)).mul(scales[r * blocksPerRow + b]);
    }

    /** Per block: both halves times x as small integers, then one FMA by the block's scale; two blocks per step. */
    @Override
    float dot(int r, float[] x, int xOffset) {
        int fullBlocks = cols / BLOCK;
        int scaleBase = r * blocksPerRow;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        int b = 0;
        for (; b + 1 < fullBlocks; b += 2) {
            acc0 = block(r, b, x, xOffset + b * BLOCK).fma(FloatVector.broadcast(F, scales[scaleBase + b]), acc0);
            acc1 = block(r, b + 1, x, xOffset + (b + 1) * BLOCK).fma(FloatVector.broadcast(F, scales[scaleBase + b + 1]), acc1);
        }
        if (b < fullBlocks) acc0 = block(r, b, x, xOffset + b * BLOCK).fma(FloatVector.broadcast(F, scales[scaleBase + b]), acc0);
        float sum = Ops.sumLanes(acc0.add(acc1));
        for (int c = fullBlocks * BLOCK; c < cols; c++) sum += get(r, c) * x[xOffset + c];
        return sum;
    }

    /** Unscaled Σ q·x lanes of block b of row r against x[c …]. */
    private FloatVector block(int r, int b, float[] x, int c) {
        IntVector v = blockBytes(r, b);
        FloatVector lo = (FloatVector) low(v).convert(VectorOperators.I2F, 0);
        FloatVector hi = (FloatVector) high(v).convert(VectorOperators.I2F, 0);
        return hi.fma(FloatVector.fromArray(F, x, c + LANES), lo.mul(FloatVector.fromArray(F, x, c)));
    }

}
