package org.paligemma4j.tensor;

import jdk.incubator.vector.FloatVector;

/** A float32 matrix on the heap: activations that take the weight side of a product (attention's keys and values). */
public final class ArrayMatrix extends FloatMatrix {
    private final float[] data;

    /** Wraps {@code data[rows·cols]} (row-major) without copying. */
    public ArrayMatrix(String name, float[] data, int rows, int cols) {
        super(name, rows, cols);
        if ((long) rows * cols > data.length) {
            throw new IllegalArgumentException(name + ": " + rows + "×" + cols + " does not fit " + data.length + " floats");
        }
        this.data = data;
    }

    @Override
    public long storageBytes() {
        return 4L * rows * cols;
    }

    @Override
    public float get(int r, int c) {
        return data[r * cols + c];
    }

    @Override
    FloatVector load(int r, int c) {
        return FloatVector.fromArray(F, data, r * cols + c);
    }
}
