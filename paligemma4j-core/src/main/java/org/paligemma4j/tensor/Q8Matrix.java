package org.paligemma4j.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * int8 weights with a float32 scale per block of {@link #BLOCK} consecutive weights of a row:
 * {@code w ≈ q · scale}, {@code scale = max|w| / 127}. A row's last block may be shorter (SigLIP's MLP
 * width 4304 is not a multiple of 32), so no weight is padded or skipped.
 */
public final class Q8Matrix extends BlockQuantizedMatrix {
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4));

    private Q8Matrix(String name, int rows, int cols) {
        super(name, rows, cols, cols); // int8: [rows, cols]
    }

    static Q8Matrix quantize(FloatMatrix source) {
        Q8Matrix m = new Q8Matrix(source.name, source.rows, source.cols);
        m.quantizeFrom(source);
        return m;
    }

    @Override
    void quantizeRow(int r, float[] row) {
        for (int b = 0; b < blocksPerRow; b++) {
            int c0 = b * BLOCK, c1 = Math.min(cols, c0 + BLOCK);
            boolean whole = c1 - c0 == BLOCK;
            float max = 0;
            if (whole) {
                max = Quantizer.absMax(row, c0);
            } else {
                for (int c = c0; c < c1; c++) max = Math.max(max, Math.abs(row[c]));
            }
            float scale = max / 127f;
            float inv = scale == 0 ? 0 : 1 / scale;
            scales[r * blocksPerRow + b] = scale;
            if (whole) {
                Quantizer.storeBytes(Quantizer.quantize(row, c0, inv, -127, 127), quantized, r * cols + c0);
                Quantizer.storeBytes(Quantizer.quantize(row, c0 + LANES, inv, -127, 127), quantized, r * cols + c0 + LANES);
            } else {
                for (int c = c0; c < c1; c++) quantized[r * cols + c] = (byte) Math.round(row[c] * inv);
            }
        }
    }

    /** Re-opens a matrix saved with {@link #storedWeights()} and {@link #storedScales()} (no re-quantizing). */
    public static Q8Matrix fromStored(String name, int rows, int cols, MemorySegment weights, MemorySegment scales) {
        return new Q8Matrix(name, rows, cols).restore(weights, scales, Q8Matrix.class);
    }

    @Override
    public float get(int r, int c) {
        return quantized[r * cols + c] * scales[r * blocksPerRow + c / BLOCK];
    }

    /** This class's own lambda (see {@link FloatMatrix#matvecTask}). */
    @Override
    Parallel.RangeBody matvecTask(float[] x, float[] y, boolean accumulate) {
        return (from, to) -> matvecRows(x, 0, y, 0, from, to, accumulate);
    }

    /**
     * This class's own copy of the row loop: the JIT also compiles the loop by itself (on-stack replacement
     * of the LM head's long runs), and one loop shared with the other format met both dot products at one
     * call site (see {@link FloatMatrix#matvecTask}).
     */
    @Override
    void matvecRows(float[] x, int xOffset, float[] y, int yOffset, int rowFrom, int rowTo, boolean accumulate) {
        for (int r = rowFrom; r < rowTo; r++) put(y, yOffset + r, dot(r, x, xOffset), accumulate);
    }

    /** This class's own lambda for batched decode (see {@link FloatMatrix#matvecTask}). */
    @Override
    Parallel.RangeBody matvecBatchTask(float[] x, int tokens, float[] y, boolean accumulate) {
        return (from, to) -> matvecRowsBatched(x, tokens, y, from, to, accumulate);
    }

    /** Two calls of this format's own row loop (see {@link FloatMatrix#matvecRowPairDuo}). */
    @Override
    void matvecRowPairDuo(float[] x, int t0, float[] y, int r, boolean accumulate) {
        matvecRows(x, t0 * cols, y, t0 * rows, r, r + 2, accumulate);
        matvecRows(x, (t0 + 1) * cols, y, (t0 + 1) * rows, r, r + 2, accumulate);
    }

    /**
     * {@link #matvecRowGroup} for rows r and r+1 together: each loaded input vector serves both rows. Sixteen
     * accumulators; each row's and token's sums exactly as {@link #dot} makes them. Each quantized format writes
     * this loop out in its own class, as it does its row loop, so that the JIT compiles each format's kernel alone
     * (see {@link FloatMatrix#matvecTask}).
     */
    @Override
    void matvecRowPairGroup(float[] x, float[] xi, int t0, float[] y, int r, boolean accumulate) {
        int fullBlocks = cols / BLOCK;
        int base = r * cols, scaleBase = r * blocksPerRow;
        int g = t0 * cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector b00 = a00, b01 = a00, b10 = a00, b11 = a00, b20 = a00, b21 = a00, b30 = a00, b31 = a00;
        for (int b = 0; b < fullBlocks; b++) {
            int c = b * BLOCK, o = g + 4 * c;
            FloatVector w0 = widen(base + c), w1 = widen(base + c + LANES);
            FloatVector u0 = widen(base + cols + c), u1 = widen(base + cols + c + LANES);
            FloatVector s = FloatVector.broadcast(F, scales[scaleBase + b]);
            FloatVector t = FloatVector.broadcast(F, scales[scaleBase + blocksPerRow + b]);
            FloatVector x0 = FloatVector.fromArray(F, xi, o), x4 = FloatVector.fromArray(F, xi, o + 4 * LANES);
            FloatVector k0 = w1.fma(x4, w0.mul(x0)), m0 = u1.fma(x4, u0.mul(x0));
            FloatVector x1 = FloatVector.fromArray(F, xi, o + LANES), x5 = FloatVector.fromArray(F, xi, o + 5 * LANES);
            FloatVector k1 = w1.fma(x5, w0.mul(x1)), m1 = u1.fma(x5, u0.mul(x1));
            FloatVector x2 = FloatVector.fromArray(F, xi, o + 2 * LANES), x6 = FloatVector.fromArray(F, xi, o + 6 * LANES);
            FloatVector k2 = w1.fma(x6, w0.mul(x2)), m2 = u1.fma(x6, u0.mul(x2));
            FloatVector x3 = FloatVector.fromArray(F, xi, o + 3 * LANES), x7 = FloatVector.fromArray(F, xi, o + 7 * LANES);
            FloatVector k3 = w1.fma(x7, w0.mul(x3)), m3 = u1.fma(x7, u0.mul(x3));
            if ((b & 1) == 0) {
                a00 = k0.fma(s, a00);
                a10 = k1.fma(s, a10);
                a20 = k2.fma(s, a20);
                a30 = k3.fma(s, a30);
                b00 = m0.fma(t, b00);
                b10 = m1.fma(t, b10);
                b20 = m2.fma(t, b20);
                b30 = m3.fma(t, b30);
            } else {
                a01 = k0.fma(s, a01);
                a11 = k1.fma(s, a11);
                a21 = k2.fma(s, a21);
                a31 = k3.fma(s, a31);
                b01 = m0.fma(t, b01);
                b11 = m1.fma(t, b11);
                b21 = m2.fma(t, b21);
                b31 = m3.fma(t, b31);
            }
        }
        finishRowGroup(x, t0, y, r, fullBlocks * BLOCK, Ops.sumLanes(a00.add(a01)), Ops.sumLanes(a10.add(a11)),
                Ops.sumLanes(a20.add(a21)), Ops.sumLanes(a30.add(a31)), accumulate);
        finishRowGroup(x, t0, y, r + 1, fullBlocks * BLOCK, Ops.sumLanes(b00.add(b01)), Ops.sumLanes(b10.add(b11)),
                Ops.sumLanes(b20.add(b21)), Ops.sumLanes(b30.add(b31)), accumulate);
    }

    /** {@code LANES} int8 weights from {@code quantized[i]}, as float32. */
    private FloatVector widen(int i) {
        return (FloatVector) ByteVector.fromArray(B, quantized, i).convertShape(VectorOperators.B2F, F, 0);
    }

    /** {@link #dot} for four tokens at once: each block's bytes widened once, each token's sums as in {@link #dot}. */
    @Override
    void matvecRowGroup(float[] x, float[] xi, int t0, float[] y, int r, boolean accumulate) {
        int fullBlocks = cols / BLOCK;
        int base = r * cols, scaleBase = r * blocksPerRow;
        int g = t0 * cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int b = 0; b < fullBlocks; b++) {
            int c = b * BLOCK, o = g + 4 * c;
            FloatVector w0 = (FloatVector) ByteVector.fromArray(B, quantized, base + c).convertShape(VectorOperators.B2F, F, 0);
            FloatVector w1 = (FloatVector) ByteVector.fromArray(B, quantized, base + c + LANES).convertShape(VectorOperators.B2F, F, 0);
            FloatVector s = FloatVector.broadcast(F, scales[scaleBase + b]);
            FloatVector k0 = w1.fma(FloatVector.fromArray(F, xi, o + 4 * LANES), w0.mul(FloatVector.fromArray(F, xi, o + 0 * LANES)));
            FloatVector k1 = w1.fma(FloatVector.fromArray(F, xi, o + 5 * LANES), w0.mul(FloatVector.fromArray(F, xi, o + 1 * LANES)));
            FloatVector k2 = w1.fma(FloatVector.fromArray(F, xi, o + 6 * LANES), w0.mul(FloatVector.fromArray(F, xi, o + 2 * LANES)));
            FloatVector k3 = w1.fma(FloatVector.fromArray(F, xi, o + 7 * LANES), w0.mul(FloatVector.fromArray(F, xi, o + 3 * LANES)));
            if ((b & 1) == 0) {
                a00 = k0.fma(s, a00);
                a10 = k1.fma(s, a10);
                a20 = k2.fma(s, a20);
                a30 = k3.fma(s, a30);
            } else {
                a01 = k0.fma(s, a01);
                a11 = k1.fma(s, a11);
                a21 = k2.fma(s, a21);
                a31 = k3.fma(s, a31);
            }
        }
        finishRowGroup(x, t0, y, r, fullBlocks * BLOCK, Ops.sumLanes(a00.add(a01)), Ops.sumLanes(a10.add(a11)),
                Ops.sumLanes(a20.add(a21)), Ops.sumLanes(a30.add(a31)), accumulate);
    }

    /** Per block: two int8×x vector products, then one FMA by the block's scale. */
    private float dot(int r, float[] x, int xOffset) {
        int fullBlocks = cols / BLOCK;
        int base = r * cols, scaleBase = r * blocksPerRow;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int b = 0; b < fullBlocks; b++) {
            int c = b * BLOCK;
            FloatVector w0 = (FloatVector) ByteVector.fromArray(B, quantized, base + c).convertShape(VectorOperators.B2F, F, 0);
            FloatVector w1 = (FloatVector) ByteVector.fromArray(B, quantized, base + c + LANES).convertShape(VectorOperators.B2F, F, 0);
            FloatVector s = FloatVector.broadcast(F, scales[scaleBase + b]);
            FloatVector block = w0.mul(FloatVector.fromArray(F, x, xOffset + c));
            block = w1.fma(FloatVector.fromArray(F, x, xOffset + c + LANES), block);
            if ((b & 1) == 0) acc0 = block.fma(s, acc0);
            else acc1 = block.fma(s, acc1);
        }
        float sum = Ops.sumLanes(acc0.add(acc1));
        for (int c = fullBlocks * BLOCK; c < cols; c++) sum += get(r, c) * x[xOffset + c];
        return sum;
    }

    @Override
    FloatVector load(int r, int c) {
        FloatVector v = (FloatVector) ByteVector.fromArray(B, quantized, r * cols + c).convertShape(VectorOperators.B2F, F, 0);
        return v.mul(scales[r * blocksPerRow + c / BLOCK]);
    }
}
