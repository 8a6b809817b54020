package org.paligemma4j.tensor;

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

    /** Already float32: transposed in place, 16×16 tiles in registers (rows through {@code rowBuffer} at the edges). */
    @Override
    void packTransposed(int r0, int rowCount, int k0, int kCount, float[] panel, int width, float[] rowBuffer) {
        int vectorK = kCount - kCount % LANES;
        if (TileTranspose.SUPPORTED && rowCount == width && width % LANES == 0) {
            for (int j0 = 0; j0 < width; j0 += LANES) {
                for (int kk = 0; kk < vectorK; kk += LANES) TileTranspose.pack(this, r0 + j0, k0 + kk, panel, kk * width + j0, width);
            }
            for (int j = 0; j < rowCount; j++) {
                for (int kk = vectorK; kk < kCount; kk++) panel[kk * width + j] = get(r0 + j, k0 + kk);
            }
            return;
        }
        for (int j = 0; j < rowCount; j++) {
            for (int kk = 0; kk < vectorK; kk += LANES) load(r0 + j, k0 + kk).intoArray(rowBuffer, kk);
            for (int kk = vectorK; kk < kCount; kk++) rowBuffer[kk] = get(r0 + j, k0 + kk);
            for (int kk = 0; kk < kCount; kk++) panel[kk * width + j] = rowBuffer[kk];
        }
        for (int j = rowCount; j < width; j++) {
            for (int kk = 0; kk < kCount; kk++) panel[kk * width + j] = 0f;
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
