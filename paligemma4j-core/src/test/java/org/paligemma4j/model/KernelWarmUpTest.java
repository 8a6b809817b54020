package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.WeightFormat;

class KernelWarmUpTest {

    @Test
    void warmsEveryWeightFormatWithoutTouchingTheModelsMatrices() {
        List<FloatMatrix> matrices = new ArrayList<>();
        float[][] before = new float[5][];
        try (Arena arena = Arena.ofShared()) {
            int i = 0;
            for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) matrices.add(matrix(arena, dtype, WeightFormat.AS_STORED, i++));
            matrices.add(matrix(arena, DType.F32, WeightFormat.Q8, i++));
            matrices.add(matrix(arena, DType.F32, WeightFormat.Q4, i));
            for (int m = 0; m < matrices.size(); m++) before[m] = row(matrices.get(m));

            KernelWarmUp.run(matrices, 72, 256);

            for (int m = 0; m < matrices.size(); m++) assertArrayEquals(before[m], row(matrices.get(m)), matrices.get(m).name());
        }
    }

    private static float[] row(FloatMatrix w) {
        float[] out = new float[w.cols()];
        w.row(3, out, 0);
        return out;
    }

    private static FloatMatrix matrix(Arena arena, DType dtype, WeightFormat format, int seed) {
        int rows = 40, cols = 64;
        MemorySegment data = arena.allocate((long) rows * cols * dtype.byteSize(), 64);
        for (int i = 0; i < rows * cols; i++) {
            float v = (float) Math.sin(i * 0.37 + seed);
            switch (dtype) {
                case BF16 -> data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, org.paligemma4j.tensor.HalfFloats.floatToBf16(v));
                case F16 -> data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, org.paligemma4j.tensor.HalfFloats.floatToF16(v));
                default -> data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
            }
        }
        return WeightMatrices.of(new SafeTensor("w" + seed, dtype, new long[] {rows, cols}, data, Path.of("test")), format);
    }
}
