package org.paligemma4j.tensor;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/** A float32 matrix on the heap: activations that take the weight side of a product (attention's keys and values). */
public final class ArrayMatrix extends FloatMatrix {
    private final float[] data;
    private final int offset, rowStride;

    /** Wraps {@code data[rows·cols]} (row-major) without copying. */
    public ArrayMatrix(String name, float[] data, int rows, int cols) {
        this(name, data, 0, cols, rows, cols);
    }

    /**
     * Wraps, without copying, the rows×cols matrix whose row r starts at {@code data[offset + r·rowStride]}:
     * one head's columns of a {@code [positions, heads·headDim]} array, for instance.
     */
    public ArrayMatrix(String name, float[] data, int offset, int rowStride, int rows, int cols) {
        super(name, rows, cols);
        if (offset < 0 || rowStride < cols || rows > 0 && offset + (long) (rows - 1) * rowStride + cols > data.length) {
            throw new IllegalArgumentException(name + ": " + rows + "×" + cols + " at " + offset + " with rows " + rowStride
                    + " apart does not fit " + data.length + " floats");
        }
        this.data = data;
        this.offset = offset;
        this.rowStride = rowStride;
    }

    /** Already float32: the block transposed straight from this array, rows past {@code rowCount} zero. */
    @Override
    void packTransposed(int r0, int rowCount, int k0, int kCount, float[] panel, int width) {
        ArrayMatrix block = new ArrayMatrix(name, data, offset + r0 * rowStride + k0, rowStride, rowCount, kCount);
        TileTranspose.transpose(block, panel, 0, width);
        if (rowCount < width) {
            for (int kk = 0; kk < kCount; kk++) Arrays.fill(panel, kk * width + rowCount, (kk + 1) * width, 0f);
        }
    }

    @Override
    public long storageBytes() {
        return 4L * rows * cols;
    }

    @Override
    public float get(int r, int c) {
        return data[offset + r * rowStride + c];
    }

    @Override
    FloatVector load(int r, int c) {
        return FloatVector.fromArray(F, data, offset + r * rowStride + c);
    }
}
