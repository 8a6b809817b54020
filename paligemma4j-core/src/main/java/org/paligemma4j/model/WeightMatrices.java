package org.paligemma4j.model;

import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.StoredType;
import org.paligemma4j.tensor.WeightFormat;

/** Checkpoint tensors as the kernels' matrices: where a file's tensor becomes a {@link FloatMatrix}, read in place. */
final class WeightMatrices {
    private WeightMatrices() {}

    /** The tensor as a matrix: its first dimension is the rows, the others flatten into the columns. */
    static FloatMatrix of(SafeTensor t) {
        if (t.rank() < 1) throw new IllegalArgumentException("tensor '" + t.name() + "' is a scalar, not a matrix");
        long rows = t.dim(0);
        long cols = t.rank() == 1 ? 1 : t.elementCount() / Math.max(1, rows);
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' " + t.shapeString() + " is too large");
        }
        StoredType type = switch (t.dtype()) {
            case F32 -> StoredType.F32;
            case BF16 -> StoredType.BF16;
            case F16 -> StoredType.F16;
            default -> throw new IllegalArgumentException("tensor '" + t.name() + "' has dtype " + t.dtype()
                    + "; weights must be F32, BF16 or F16");
        };
        return FloatMatrix.mapped(t.name(), (int) rows, (int) cols, type, t.data());
    }

    /** The tensor as a matrix in {@code format} (quantized formats copy and quantize it). */
    static FloatMatrix of(SafeTensor t, WeightFormat format) {
        return of(t).inFormat(format);
    }
}
