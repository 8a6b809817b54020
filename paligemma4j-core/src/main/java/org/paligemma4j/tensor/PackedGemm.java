package org.paligemma4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix × many tokens, the compute-bound case (vision encoder, prefill). Each thread takes blocks of
 * {@link #PANEL} weight rows; for every {@link #K_BLOCK} columns it widens and transposes that block once
 * into a small float32 panel that stays in cache, then sweeps all tokens over it with a register tile of
 * {@link #TILE_TOKENS} tokens × {@link #PANEL} rows: per column, two panel vectors and six broadcast
 * inputs feed twelve FMAs. Packing costs one pass over the weights per call, which the many tokens
 * amortise; single tokens (decode) use the streaming kernel instead.
 */
final class PackedGemm {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Below this many tokens packing does not pay for itself. */
    static final int MIN_TOKENS = 8;
    static final int PANEL = 2 * F.length();
    static final int TILE_TOKENS = 6;
    static final int K_BLOCK = 256;

    private PackedGemm() {}

    static void multiply(FloatMatrix w, float[] x, int tokens, float[] y) {
        int blocks = (w.rows + PANEL - 1) / PANEL;
        Parallel.forRange(blocks, 1, (b0, b1) -> multiplyBlocks(w, x, tokens, y, b0, b1));
    }

    /** The whole product on the calling thread (for callers that parallelise over something else). */
    static void multiplySerial(FloatMatrix w, float[] x, int tokens, float[] y) {
        multiplyBlocks(w, x, tokens, y, 0, (w.rows + PANEL - 1) / PANEL);
    }

    /** Row panels [b0, b1) of the product. */
    private static void multiplyBlocks(FloatMatrix w, float[] x, int tokens, float[] y, int b0, int b1) {
        int rows = w.rows, cols = w.cols;
        float[] panel = new float[K_BLOCK * PANEL];
        float[] edge = new float[TILE_TOKENS * PANEL];
        float[] rowBuffer = new float[K_BLOCK];
        for (int b = b0; b < b1; b++) {
            int r0 = b * PANEL, rowCount = Math.min(PANEL, rows - r0);
            for (int k0 = 0; k0 < cols; k0 += K_BLOCK) {
                int kCount = Math.min(K_BLOCK, cols - k0);
                w.packTransposed(r0, rowCount, k0, kCount, panel, PANEL, rowBuffer);
                boolean first = k0 == 0;
                int t = 0;
                if (rowCount == PANEL) {
                    for (; t + TILE_TOKENS <= tokens; t += TILE_TOKENS) {
                        tile6(x, cols, t, k0, kCount, panel, y, t * rows + r0, rows, first);
                    }
                } else {
                    // A partial panel (zero-padded rows) still runs the full tile, into a scratch block.
                    for (; t + TILE_TOKENS <= tokens; t += TILE_TOKENS) {
                        tile6(x, cols, t, k0, kCount, panel, edge, 0, PANEL, true);
                        storeEdge(edge, TILE_TOKENS, y, t, rows, r0, rowCount, first);
                    }
                }
                for (; t < tokens; t++) {
                    single(x, cols, t, k0, kCount, panel, edge);
                    storeEdge(edge, 1, y, t, rows, r0, rowCount, first);
                }
            }
        }
    }

    /** Stores (first column block) or adds the first {@code rowCount} rows of a scratch tile {@code [tokens, PANEL]}. */
    private static void storeEdge(float[] edge, int tokens, float[] y, int t, int rows, int r0, int rowCount, boolean first) {
        for (int i = 0; i < tokens; i++) {
            for (int j = 0; j < rowCount; j++) {
                int o = (t + i) * rows + r0 + j;
                y[o] = first ? edge[i * PANEL + j] : y[o] + edge[i * PANEL + j];
            }
        }
    }

    /** The hot loop: 6 tokens × 32 rows of outputs accumulate in 12 vector registers. */
    private static void tile6(float[] x, int cols, int t, int k0, int kCount, float[] panel, float[] y, int yOffset,
                              int yStride, boolean first) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int x0 = t * cols + k0, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols, x4 = x3 + cols, x5 = x4 + cols;
        int half = F.length();
        for (int kk = 0; kk < kCount; kk++) {
            int p = kk * PANEL;
            FloatVector w0 = FloatVector.fromArray(F, panel, p);
            FloatVector w1 = FloatVector.fromArray(F, panel, p + half);
            FloatVector a = FloatVector.broadcast(F, x[x0 + kk]);
            c00 = w0.fma(a, c00);
            c01 = w1.fma(a, c01);
            a = FloatVector.broadcast(F, x[x1 + kk]);
            c10 = w0.fma(a, c10);
            c11 = w1.fma(a, c11);
            a = FloatVector.broadcast(F, x[x2 + kk]);
            c20 = w0.fma(a, c20);
            c21 = w1.fma(a, c21);
            a = FloatVector.broadcast(F, x[x3 + kk]);
            c30 = w0.fma(a, c30);
            c31 = w1.fma(a, c31);
            a = FloatVector.broadcast(F, x[x4 + kk]);
            c40 = w0.fma(a, c40);
            c41 = w1.fma(a, c41);
            a = FloatVector.broadcast(F, x[x5 + kk]);
            c50 = w0.fma(a, c50);
            c51 = w1.fma(a, c51);
        }
        store(y, yOffset, c00, c01, first);
        store(y, yOffset + yStride, c10, c11, first);
        store(y, yOffset + 2 * yStride, c20, c21, first);
        store(y, yOffset + 3 * yStride, c30, c31, first);
        store(y, yOffset + 4 * yStride, c40, c41, first);
        store(y, yOffset + 5 * yStride, c50, c51, first);
    }

    private static void store(float[] y, int o, FloatVector lo, FloatVector hi, boolean first) {
        int half = F.length();
        if (!first) {
            lo = lo.add(FloatVector.fromArray(F, y, o));
            hi = hi.add(FloatVector.fromArray(F, y, o + half));
        }
        lo.intoArray(y, o);
        hi.intoArray(y, o + half);
    }

    /** One token against the panel (tails and partial row blocks). */
    private static void single(float[] x, int cols, int t, int k0, int kCount, float[] panel, float[] out) {
        int half = F.length();
        FloatVector c0 = FloatVector.zero(F), c1 = c0;
        int xo = t * cols + k0;
        for (int kk = 0; kk < kCount; kk++) {
            FloatVector a = FloatVector.broadcast(F, x[xo + kk]);
            c0 = FloatVector.fromArray(F, panel, kk * PANEL).fma(a, c0);
            c1 = FloatVector.fromArray(F, panel, kk * PANEL + half).fma(a, c1);
        }
        c0.intoArray(out, 0);
        c1.intoArray(out, half);
    }
}
