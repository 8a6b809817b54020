package org.paligemma4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/** IEEE half-precision weights (rare in PaliGemma releases), widened lane by lane. */
public final class F16Matrix extends MappedMatrix {
    private static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ThreadLocal<float[]> LANES_BUFFER = ThreadLocal.withInitial(() -> new float[LANES]);

    F16Matrix(String name, int rows, int cols, MemorySegment data) {
        super(name, rows, cols, data);
    }

    @Override
    public float get(int r, int c) {
        return HalfFloats.f16ToFloat(data.get(LE, ((long) r * cols + c) * 2));
    }

    @Override
    FloatVector load(int r, int c) {
        float[] buf = LANES_BUFFER.get();
        long base = ((long) r * cols + c) * 2;
        for (int i = 0; i < LANES; i++) buf[i] = HalfFloats.f16ToFloat(data.get(LE, base + 2L * i));
        return FloatVector.fromArray(F, buf, 0);
    }
}
