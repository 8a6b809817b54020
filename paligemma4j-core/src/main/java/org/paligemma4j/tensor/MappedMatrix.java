package org.paligemma4j.tensor;

import java.lang.foreign.MemorySegment;

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

    @Override
    public long storageBytes() {
        return data.byteSize();
    }
}
