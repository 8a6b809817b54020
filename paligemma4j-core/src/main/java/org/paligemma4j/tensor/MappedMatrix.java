package org.paligemma4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A matrix read in place from checkpoint memory (usually the mapped file), in the dtype it was stored in. */
public abstract sealed class MappedMatrix extends FloatMatrix permits F32Matrix, BF16Matrix, F16Matrix {
    protected final MemorySegment data;

    MappedMatrix(String name, int rows, int cols, MemorySegment data) {
        super(name, rows, cols);
        this.data = data;
    }

    @Override
    void release(int from, int to) {
        if (!data.isMapped() || from >= to) return;
        long rowBytes = data.byteSize() / rows;
        data.asSlice(from * rowBytes, (to - from) * rowBytes).unload();
    }

    /** One byte of every cache line of the rows, four independent sums so the reads overlap. */
    @Override
    int touchRows(int from, int to) {
        long rowBytes = rowBytes();
        MemorySegment block = data.asSlice(from * rowBytes, (to - from) * rowBytes);
        long size = block.byteSize(), p = 0;
        int s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (; p + 4 * CACHE_LINE <= size; p += 4 * CACHE_LINE) {
            s0 += block.get(ValueLayout.JAVA_BYTE, p);
            s1 += block.get(ValueLayout.JAVA_BYTE, p + CACHE_LINE);
            s2 += block.get(ValueLayout.JAVA_BYTE, p + 2 * CACHE_LINE);
            s3 += block.get(ValueLayout.JAVA_BYTE, p + 3 * CACHE_LINE);
        }
        for (; p < size; p += CACHE_LINE) s0 += block.get(ValueLayout.JAVA_BYTE, p);
        return s0 + s1 + s2 + s3;
    }

    @Override
    public long storageBytes() {
        return data.byteSize();
    }
}
