package org.paligemma4j.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import org.paligemma4j.tensor.HalfFloats;

/**
 * One tensor of a safetensors file: its header entry and a read-only view of its bytes in the mapped
 * file. The view stays valid while the {@link SafetensorsFile} (or {@link Checkpoint}) that owns the
 * mapping is open.
 */
public record SafeTensor(String name, DType dtype, long[] shape, MemorySegment data, Path file) {

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    /** Element {@code i} (flat, row-major) widened to float32; integer types are converted by value. */
    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> data.get(F32, i * 4);
            case BF16 -> HalfFloats.bf16ToFloat(data.get(I16, i * 2));
            case F16 -> HalfFloats.f16ToFloat(data.get(I16, i * 2));
            case F64 -> (float) data.get(F64, i * 8);
            case I64 -> data.get(I64, i * 8);
            case I32 -> data.get(I32, i * 4);
            case I16 -> data.get(I16, i * 2);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, i));
            case U16 -> Short.toUnsignedInt(data.get(I16, i * 2));
            case U32 -> Integer.toUnsignedLong(data.get(I32, i * 4));
            default -> throw new UnsupportedOperationException(file.getFileName() + ": tensor '" + name
                    + "' has dtype " + dtype + ", which cannot be read as float");
        };
    }

    /** Elements {@code [from, from + out.length)} widened to float32 into {@code out}. */
    public void readFloats(long from, float[] out, int outOffset, int count) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32, from * 4, out, outOffset, count);
            case BF16 -> {
                for (int k = 0; k < count; k++) out[outOffset + k] = HalfFloats.bf16ToFloat(data.get(I16, (from + k) * 2));
            }
            case F16 -> {
                for (int k = 0; k < count; k++) out[outOffset + k] = HalfFloats.f16ToFloat(data.get(I16, (from + k) * 2));
            }
            default -> {
                for (int k = 0; k < count; k++) out[outOffset + k] = getFloat(from + k);
            }
        }
    }

    /** The whole tensor as float32 (for small tensors: norms, biases, embeddings of tiny models). */
    public float[] toFloatArray() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new UnsupportedOperationException("tensor '" + name + "' has " + n + " elements, too many for one Java array");
        }
        float[] out = new float[(int) n];
        readFloats(0, out, 0, out.length);
        return out;
    }
}
