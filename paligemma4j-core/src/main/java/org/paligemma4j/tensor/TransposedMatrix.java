package org.paligemma4j.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * Wᵀ, read in place from W: the weight side of a linear layer's input gradient ({@link Backward#matmulInputGrad}),
 * {@code dX = dY·W}, which is the forward product with W transposed. The packed GEMM wants each panel as
 * {@code panel[kk][j] = Wᵀ[r0 + j][k0 + kk] = W[k0 + kk][r0 + j]}: a run of one of W's rows, so packing it is a
 * plain widening copy, with no transpose and no transposed copy of W.
 */
final class TransposedMatrix extends FloatMatrix {
    private final FloatMatrix w;

    TransposedMatrix(FloatMatrix w) {
        super(w.name() + "ᵀ", w.cols(), w.rows());
        this.w = w;
    }

    /** Whole vectors of W's row where they fit, single elements at the ragged end, zeros past {@code rowCount}. */
    @Override
    void packTransposed(int r0, int rowCount, int k0, int kCount, float[] panel, int width) {
        int vectorCount = rowCount - rowCount % LANES;
        for (int kk = 0; kk < kCount; kk++) {
            int o = kk * width, r = k0 + kk, j = 0;
            for (; j < vectorCount; j += LANES) w.load(r, r0 + j).intoArray(panel, o + j);
            for (; j < rowCount; j++) panel[o + j] = w.get(r, r0 + j);
            for (; j < width; j++) panel[o + j] = 0f;
        }
    }

    @Override
    public long storageBytes() {
        return w.storageBytes();
    }

    @Override
    public float get(int r, int c) {
        return w.get(c, r);
    }

    /** A column of W, gathered element by element: slow, and unused by {@link Backward#matmulInputGrad}, which sends few tokens elsewhere. */
    @Override
    FloatVector load(int r, int c) {
        float[] column = new float[LANES];
        for (int i = 0; i < LANES; i++) column[i] = w.get(c + i, r);
        return FloatVector.fromArray(F, column, 0);
    }
}
