package org.paligemma4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/** float32 weights, read as stored. */
public final class F32Matrix extends MappedMatrix {
    private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F32Matrix(String name, int rows, int cols, MemorySegment data) {
        super(name, rows, cols, data);
    }

    @Override
    public float get(int r, int c) {
        return data.get(LE, ((long) r * cols + c) * 4);
    }

    @Override
    FloatVector load(int r, int c) {
        return FloatVector.fromMemorySegment(F, data, ((long) r * cols + c) * 4, ByteOrder.LITTLE_ENDIAN);
    }
}
