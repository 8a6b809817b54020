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
        ShortVector s = ShortVector.fromMemorySegment(S, data, ((long) r * cols + c) * 2, ByteOrder.LITTLE_ENDIAN);
        IntVector widened = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
        return widened.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
