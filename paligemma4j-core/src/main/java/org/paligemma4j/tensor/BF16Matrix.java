package org.paligemma4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** bfloat16 weights, widened in registers: a bf16 is the top half of a float32, so widening is a shift. */
public final class BF16Matrix extends MappedMatrix {
    private static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    BF16Matrix(String name, int rows, int cols, MemorySegment data) {
        super(name, rows, cols, data);
    }

    @Override
    public float get(int r, int c) {
        return HalfFloats.bf16ToFloat(data.get(LE, ((long) r * cols + c) * 2));
    }

    @Override
    FloatVector load(int r, int c) {
        return widen(((long) r * cols + c) * 2);
    }

    /** {@code LANES} bf16 values from byte {@code offset}, widened to float32. */
    private FloatVector widen(long offset) {
        ShortVector s = ShortVector.fromMemorySegment(S, data, offset, ByteOrder.LITTLE_ENDIAN);
        IntVector widened = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
        return widened.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * bf16's own decode task, so that the JIT compiles this class's loop with this format's load alone. Through the
     * shared {@link FloatMatrix#matvecRows}, the load's call site also sees the other formats of a process (SigLIP's
     * and the attention's matrices), and the kernel ran at 28–54 GB/s of cache-resident weights in {@code bench} against
     * 62–72 GB/s in a fresh process (AMD EPYC, 2 threads; 59–63 in bench with this kernel).
     */
    @Override
    Parallel.RangeBody matvecTask(float[] x, float[] y, boolean accumulate) {
        return (from, to) -> matvecRows(x, 0, y, 0, from, to, accumulate);
    }

    /**
     * {@link FloatMatrix#matvecRows} written out for bf16: the same additions in the same order (so the batched
     * kernels, which reproduce them, still agree bit for bit), with rows of {@link #QUAD_ROW_MIN_COLS} columns or more
     * four at a time.
     */
    @Override
    void matvecRows(float[] x, int xOffset, float[] y, int yOffset, int rowFrom, int rowTo, boolean accumulate) {
        int vectorCols = cols - cols % LANES;
        long rowBytes = 2L * cols, step = 2L * LANES;
        int r = rowFrom;
        if (cols >= QUAD_ROW_MIN_COLS) {
            for (; r + 4 <= rowTo; r += 4) matvecRowQuad(x, xOffset, y, yOffset, r, accumulate);
        }
        for (; r < rowTo; r++) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            long o = r * rowBytes;
            int c = 0;
            for (; c + 2 * LANES <= vectorCols; c += 2 * LANES, o += 2 * step) {
                a0 = widen(o).fma(FloatVector.fromArray(F, x, xOffset + c), a0);
                a1 = widen(o + step).fma(FloatVector.fromArray(F, x, xOffset + c + LANES), a1);
            }
            if (c < vectorCols) a0 = widen(o).fma(FloatVector.fromArray(F, x, xOffset + c), a0);
            float s = Ops.sumLanes(a0.add(a1));
            for (c = vectorCols; c < cols; c++) s += get(r, c) * x[xOffset + c];
            put(y, yOffset + r, s, accumulate);
        }
    }

    /** {@link FloatMatrix#matvecRowQuad} written out for bf16, the same additions in the same order. */
    @Override
    void matvecRowQuad(float[] x, int xOffset, float[] y, int yOffset, int r, boolean accumulate) {
        int vectorCols = cols - cols % LANES;
        long rowBytes = 2L * cols, step = 2L * LANES;
        long o0 = r * rowBytes, o1 = o0 + rowBytes, o2 = o1 + rowBytes, o3 = o2 + rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int c = 0;
        long o = 0;
        for (; c + 2 * LANES <= vectorCols; c += 2 * LANES, o += 2 * step) {
            FloatVector x0 = FloatVector.fromArray(F, x, xOffset + c), x1 = FloatVector.fromArray(F, x, xOffset + c + LANES);
            a0 = widen(o0 + o).fma(x0, a0);
            a1 = widen(o0 + o + step).fma(x1, a1);
            b0 = widen(o1 + o).fma(x0, b0);
            b1 = widen(o1 + o + step).fma(x1, b1);
            c0 = widen(o2 + o).fma(x0, c0);
            c1 = widen(o2 + o + step).fma(x1, c1);
            d0 = widen(o3 + o).fma(x0, d0);
            d1 = widen(o3 + o + step).fma(x1, d1);
        }
        if (c < vectorCols) {
            FloatVector x0 = FloatVector.fromArray(F, x, xOffset + c);
            a0 = widen(o0 + o).fma(x0, a0);
            b0 = widen(o1 + o).fma(x0, b0);
            c0 = widen(o2 + o).fma(x0, c0);
            d0 = widen(o3 + o).fma(x0, d0);
        }
        float sa = Ops.sumLanes(a0.add(a1)), sb = Ops.sumLanes(b0.add(b1));
        float sc = Ops.sumLanes(c0.add(c1)), sd = Ops.sumLanes(d0.add(d1));
        finishRowQuad(x, xOffset, y, yOffset, r, vectorCols, sa, sb, sc, sd, accumulate);
    }

    /** The batched decode kernels of {@link FloatMatrix}, compiled for bf16 alone like {@link #matvecTask}. */
    @Override
    Parallel.RangeBody matvecBatchTask(float[] x, int tokens, float[] y, boolean accumulate) {
        return (from, to) -> matvecRowsBatched(x, tokens, y, from, to, accumulate);
    }
}
