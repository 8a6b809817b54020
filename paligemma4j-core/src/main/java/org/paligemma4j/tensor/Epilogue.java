package org.paligemma4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * What a product does with its sums {@code s = W·x + b}: store them, add them to what the output already
 * holds (a residual connection), or store {@code geluTanh(s)} (an MLP's activation). The GEMM finishes
 * each block of outputs this way while the block is still in cache, which saves a pass over the
 * outputs, and a wait for every thread, per layer.
 */
public enum Epilogue {
    /** {@code y = s} */
    STORE,
    /** {@code y += s} */
    ADD,
    /** {@code y = geluTanh(s)} */
    GELU_TANH;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** Whether the products' sums go on top of the output's current values. */
    boolean accumulates() {
        return this == ADD;
    }

    /**
     * Completes outputs {@code y[t][r0, r0 + rowCount)} of tokens [t0, t0 + tokens), whose sums are
     * already in y: adds the bias (if any), then applies the activation.
     */
    void finish(float[] y, int t0, int tokens, int rows, int r0, int rowCount, float[] bias) {
        if (bias == null && this != GELU_TANH) return;
        for (int t = t0; t < t0 + tokens; t++) {
            int o = t * rows + r0;
            for (int j = 0; j < rowCount; j += F.length()) {
                VectorMask<Float> inRange = F.indexInRange(j, rowCount);
                FloatVector s = FloatVector.fromArray(F, y, o + j, inRange);
                if (bias != null) s = s.add(FloatVector.fromArray(F, bias, r0 + j, inRange));
                if (this == GELU_TANH) s = Ops.geluTanh(s);
                s.intoArray(y, o + j, inRange);
            }
        }
    }
}
