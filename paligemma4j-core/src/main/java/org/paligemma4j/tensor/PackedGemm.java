package org.paligemma4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix × many tokens, the compute-bound case (vision encoder, prefill), for one or several matrices
 * that share the inputs. Each thread takes a range of blocks of {@link #PANEL} weight rows; for each
 * block of up to {@link #TOKEN_BLOCK} tokens and {@link #K_BLOCK} columns it packs those inputs into
 * tiles of {@link #TILE_TOKENS} tokens, then widens and transposes each of its row blocks once into a
 * float32 panel and sweeps the token tiles over it with a register tile of 6 tokens × {@link #PANEL}
 * rows: per column, two panel vectors and six broadcast inputs feed twelve FMAs. A panel's outputs,
 * once complete, get their bias and {@link Epilogue} while still in cache. Packing costs one pass over
 * the weights per token block, which the many tokens amortise; single tokens (decode) use the
 * streaming kernel instead.
 */
final class PackedGemm {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Below this many tokens packing does not pay for itself. */
    static final int MIN_TOKENS = 8;
    static final int PANEL = 2 * F.length();
    static final int TILE_TOKENS = 6;
    /**
     * Long column blocks: a panel row is then one long run of the weight matrix, which the hardware
     * prefetcher streams (short runs left packing waiting on memory), and every output is read and
     * written once per block (with 256 columns, Gemma 2's MLP ran 15–20% slower). 4352 holds SigLIP's
     * MLP width 4304 in one block (split in two, its fc2 ran 5% slower).
     */
    static final int K_BLOCK = 4352;
    /** At most this many tokens per block, for long prompts and 896 px images. */
    static final int TOKEN_BLOCK = 516;
    /** Bounds each thread's packed inputs (4.75 MB, shared cache): fewer tokens per block for long columns. */
    static final int PACKED_INPUTS_BUDGET = TOKEN_BLOCK * 2304;

    private PackedGemm() {}

    /** Each thread's packed inputs, weight panel and edge tile. */
    private static final ThreadBuffer INPUTS = new ThreadBuffer(), PANELS = new ThreadBuffer(), EDGES = new ThreadBuffer();

    /** All the products, their row panels split across the threads. */
    static void multiply(Product[] products, float[] x, int tokens) {
        run(products, x, 0, products[0].weight().cols, tokens, true);
    }

    /**
     * The whole product on the calling thread (for callers that parallelise over something else), token
     * t's inputs at {@code x[xOffset + t·xStride …]}: one head's slice of a row of queries, for instance.
     */
    static void multiplySerial(FloatMatrix w, float[] x, int xOffset, int xStride, int tokens, float[] y) {
        run(new Product[] {new Product(w, y, null, Epilogue.STORE)}, x, xOffset, xStride, tokens, false);
    }

    /**
     * Each thread takes a contiguous range of the row panels of all the products and, per block of tokens
     * and columns, packs the inputs into its own buffer, then multiplies its panels by them. Every thread
     * packs all the inputs: a buffer shared between cores, written by one and read by both, cost each
     * write a cache-line transfer (packing ran 4× slower per value than on one thread, 10% of a SigLIP
     * projection).
     */
    private static void run(Product[] products, float[] x, int xOffset, int xStride, int tokens, boolean parallel) {
        int[] firstPanel = new int[products.length + 1];
        for (int i = 0; i < products.length; i++) {
            firstPanel[i + 1] = firstPanel[i] + (products[i].weight().rows + PANEL - 1) / PANEL;
        }
        if (parallel) {
            Parallel.forRange(firstPanel[products.length], 1, (p0, p1) -> multiplyRange(products, firstPanel, x, xOffset, xStride, tokens, p0, p1));
        } else {
            multiplyRange(products, firstPanel, x, xOffset, xStride, tokens, 0, firstPanel[products.length]);
        }
    }

    /** Panels [p0, p1) of all the products, numbered one product after another from {@code firstPanel}. */
    private static void multiplyRange(Product[] products, int[] firstPanel, float[] x, int xOffset, int xStride, int tokens,
                                      int p0, int p1) {
        int cols = products[0].weight().cols;
        // Equal column blocks, each starting on a 32-column boundary (a quantization block).
        int kBlocks = (cols + K_BLOCK - 1) / K_BLOCK, kBlock = ((cols + kBlocks - 1) / kBlocks + 31) / 32 * 32;
        int tokenBlock = Math.min(TOKEN_BLOCK, Math.max(1, PACKED_INPUTS_BUDGET / kBlock / TILE_TOKENS) * TILE_TOKENS);
        int tilesPerBlock = (Math.min(tokens, tokenBlock) + TILE_TOKENS - 1) / TILE_TOKENS;
        float[] packedInputs = INPUTS.atLeast(tilesPerBlock * TILE_TOKENS * kBlock);
        for (int tb = 0; tb < tokens; tb += tokenBlock) {
            int tbCount = Math.min(tokenBlock, tokens - tb);
            for (int k0 = 0; k0 < cols; k0 += kBlock) {
                int kCount = Math.min(kBlock, cols - k0);
                packInputs(x, xOffset, xStride, tb, tbCount, k0, kCount, packedInputs);
                for (int i = 0; i < products.length; i++) {
                    int b0 = Math.max(p0, firstPanel[i]) - firstPanel[i], b1 = Math.min(p1, firstPanel[i + 1]) - firstPanel[i];
                    if (b0 < b1) multiplyPanels(products[i], packedInputs, tb, tbCount, k0, kCount, b0, b1);
                }
            }
        }
    }

    /**
     * Row panels [b0, b1) of one product times the packed inputs of tokens [tb, tb + tbCount) and columns
     * [k0, k0 + kCount), stored (first column block, unless the product accumulates) or added into its
     * output; the epilogue finishes a panel's outputs once its sums are complete, while they are in cache.
     */
    private static void multiplyPanels(Product product, float[] packedInputs, int tb, int tbCount, int k0, int kCount,
                                       int b0, int b1) {
        FloatMatrix w = product.weight();
        float[] y = product.out();
        int rows = w.rows, tiles = (tbCount + TILE_TOKENS - 1) / TILE_TOKENS;
        boolean first = k0 == 0 && !product.epilogue().accumulates(), last = k0 + kCount == w.cols;
        float[] panel = PANELS.atLeast(kCount * PANEL), edge = EDGES.atLeast(TILE_TOKENS * PANEL);
        for (int b = b0; b < b1; b++) {
            int r0 = b * PANEL, rowCount = Math.min(PANEL, rows - r0);
            w.packTransposed(r0, rowCount, k0, kCount, panel, PANEL);
            for (int tile = 0; tile < tiles; tile++) {
                int t = tb + tile * TILE_TOKENS, tileTokens = Math.min(TILE_TOKENS, tb + tbCount - t);
                int inputs = tile * TILE_TOKENS * kCount;
                if (rowCount == PANEL && tileTokens == TILE_TOKENS) {
                    tile6(packedInputs, inputs, kCount, panel, y, t * rows + r0, rows, first);
                } else {
                    // A partial panel (zero-padded rows) or the last, partial tile (zero-padded tokens)
                    // still runs the full tile, into a scratch block.
                    tile6(packedInputs, inputs, kCount, panel, edge, 0, PANEL, true);
                    storeEdge(edge, tileTokens, y, t, rows, r0, rowCount, first);
                }
            }
            if (last) product.epilogue().finish(y, tb, tbCount, rows, r0, rowCount, product.bias());
        }
    }

    /**
     * Copies columns [k0, k0 + kCount) of tokens [t0, t0 + tokens) into {@code packed}, each tile of {@link #TILE_TOKENS}
     * interleaved as {@code [kk][TILE_TOKENS]}, tokens past the end zero: the six values the kernel
     * broadcasts at each step sit side by side, wherever the caller's array happens to lie in memory.
     * Whole tiles are interleaved 16 columns at a time in registers (SigLIP: 52 -> 20 ms of packing per
     * thread and image, against a scalar copy with a stride-6 store).
     */
    private static void packInputs(float[] x, int xOffset, int xStride, int t0, int tokens, int k0, int kCount, float[] packed) {
        int tiles = (tokens + TILE_TOKENS - 1) / TILE_TOKENS;
        int vectorK = INTERLEAVE_IN_REGISTERS ? kCount - kCount % 16 : 0;
        for (int tile = 0; tile < tiles; tile++) {
            int base = tile * TILE_TOKENS * kCount, first = t0 + tile * TILE_TOKENS;
            int tileTokens = Math.min(TILE_TOKENS, t0 + tokens - first), kk0 = tileTokens == TILE_TOKENS ? vectorK : 0;
            if (kk0 > 0) interleaveSix(x, xOffset + first * xStride + k0, xStride, kk0, packed, base);
            for (int i = 0; i < TILE_TOKENS; i++) {
                int src = xOffset + (first + i) * xStride + k0;
                for (int kk = kk0; kk < kCount; kk++) packed[base + kk * TILE_TOKENS + i] = i < tileTokens ? x[src + kk] : 0f;
            }
        }
    }

    /** 16-lane vectors: the lane patterns below assume them. */
    private static final boolean INTERLEAVE_IN_REGISTERS = F.length() == 16;

    /**
     * {@code packed[base + kk·6 + i] = x[src + i·stride + kk]} for i < 6, kk < kCount (a multiple of 16).
     * Per 16 columns: the six rows' vectors are zipped in pairs (rows 0/1, 2/3, 4/5 → runs of
     * {@code [kk][2]}), and each of the six output vectors takes its lanes from the three pair streams with
     * two two-table selections.
     */
    private static void interleaveSix(float[] x, int src, int stride, int kCount, float[] packed, int base) {
        for (int kk = 0; kk < kCount; kk += 16) {
            int s = src + kk, o = base + kk * TILE_TOKENS;
            FloatVector r0 = FloatVector.fromArray(F, x, s), r1 = FloatVector.fromArray(F, x, s + stride);
            FloatVector r2 = FloatVector.fromArray(F, x, s + 2 * stride), r3 = FloatVector.fromArray(F, x, s + 3 * stride);
            FloatVector r4 = FloatVector.fromArray(F, x, s + 4 * stride), r5 = FloatVector.fromArray(F, x, s + 5 * stride);
            // First 8 columns, then the last 8: three output vectors each.
            FloatVector p = ZIP_LOW.selectFrom(r0, r1), q = ZIP_LOW.selectFrom(r2, r3), r = ZIP_LOW.selectFrom(r4, r5);
            FROM_R_0.selectFrom(FROM_PQ_0.selectFrom(p, q), r).intoArray(packed, o);
            FROM_R_1.selectFrom(FROM_PQ_1.selectFrom(p, q), r).intoArray(packed, o + 16);
            FROM_R_2.selectFrom(FROM_PQ_2.selectFrom(p, q), r).intoArray(packed, o + 32);
            p = ZIP_HIGH.selectFrom(r0, r1);
            q = ZIP_HIGH.selectFrom(r2, r3);
            r = ZIP_HIGH.selectFrom(r4, r5);
            FROM_R_0.selectFrom(FROM_PQ_0.selectFrom(p, q), r).intoArray(packed, o + 48);
            FROM_R_1.selectFrom(FROM_PQ_1.selectFrom(p, q), r).intoArray(packed, o + 64);
            FROM_R_2.selectFrom(FROM_PQ_2.selectFrom(p, q), r).intoArray(packed, o + 80);
        }
    }

    /** Lane indexes for selectFrom(a, b): 0–15 pick a lane of a, 16–31 a lane of b. */
    private static final FloatVector ZIP_LOW = lanes(l -> l / 2 + (l % 2) * 16);
    private static final FloatVector ZIP_HIGH = lanes(l -> 8 + l / 2 + (l % 2) * 16);
    /**
     * Output vector m (0–2) of an 8-column half holds flat positions f = 16m + l = 6·kk + i, i.e. lane
     * 2·kk + i%2 of pair stream i/2 (p, q or r): first p and q are merged (lanes meant for r left at 0),
     * then r's lanes are taken over the merge. Separate constants, not an array: the JIT treats array
     * elements as variables, and a lane pattern it cannot see may leave the selection to a slow path.
     */
    private static final FloatVector FROM_PQ_0 = fromPq(0), FROM_PQ_1 = fromPq(1), FROM_PQ_2 = fromPq(2);
    private static final FloatVector FROM_R_0 = fromR(0), FROM_R_1 = fromR(1), FROM_R_2 = fromR(2);

    private static FloatVector fromPq(int m) {
        return lanes(l -> switch (pairStream(m, l)) {
            case 0 -> laneInStream(m, l);
            case 1 -> 16 + laneInStream(m, l);
            default -> 0;
        });
    }

    private static FloatVector fromR(int m) {
        return lanes(l -> pairStream(m, l) == 2 ? 16 + laneInStream(m, l) : l);
    }

    /** The pair stream (0 = p, 1 = q, 2 = r) that lane l of output vector m comes from. */
    private static int pairStream(int m, int l) {
        return (16 * m + l) % TILE_TOKENS / 2;
    }

    /** The lane of its pair stream that lane l of output vector m comes from. */
    private static int laneInStream(int m, int l) {
        int f = 16 * m + l;
        return 2 * (f / TILE_TOKENS) + f % 2;
    }

    private static FloatVector lanes(java.util.function.IntUnaryOperator index) {
        float[] values = new float[F.length()];
        for (int l = 0; l < values.length; l++) values[l] = INTERLEAVE_IN_REGISTERS ? index.applyAsInt(l) : 0;
        return FloatVector.fromArray(F, values, 0);
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
    private static void tile6(float[] a, int a0, int kCount, float[] panel, float[] y, int yOffset, int yStride,
                              boolean first) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int half = F.length();
        for (int kk = 0; kk < kCount; kk++) {
            int p = kk * PANEL, i = a0 + kk * TILE_TOKENS;
            FloatVector w0 = FloatVector.fromArray(F, panel, p);
            FloatVector w1 = FloatVector.fromArray(F, panel, p + half);
            FloatVector b = FloatVector.broadcast(F, a[i]);
            c00 = w0.fma(b, c00);
            c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(F, a[i + 1]);
            c10 = w0.fma(b, c10);
            c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(F, a[i + 2]);
            c20 = w0.fma(b, c20);
            c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(F, a[i + 3]);
            c30 = w0.fma(b, c30);
            c31 = w1.fma(b, c31);
            b = FloatVector.broadcast(F, a[i + 4]);
            c40 = w0.fma(b, c40);
            c41 = w1.fma(b, c41);
            b = FloatVector.broadcast(F, a[i + 5]);
            c50 = w0.fma(b, c50);
            c51 = w1.fma(b, c51);
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

}
