package org.paligemma4j.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A weight matrix {@code W[rows][cols]} (PyTorch's {@code [out, in]}) read in place from mapped memory,
 * in the dtype it was stored in. Each storage format is one small subclass that knows how to load a run
 * of a row as float32 vector lanes; the register-tiled multiply below is shared.
 *
 * <p>Most of the model's time is spent in {@link #matmul}: the vision encoder, the prefill and every
 * decode step are sequences of these products.
 */
public abstract sealed class FloatMatrix permits MappedMatrix, BlockQuantizedMatrix, ArrayMatrix, TransposedMatrix {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int LANES = F.length();
    /** Tokens that share each loaded weight vector: four accumulators per row fit the register file. */
    private static final int TOKEN_TILE = 4;

    protected final String name;
    protected final int rows;
    protected final int cols;

    FloatMatrix(String name, int rows, int cols) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
    }

    /**
     * A matrix read in place from {@code data}: {@code rows × cols} elements of {@code type}, row-major, little-endian
     * (as safetensors files store them). The matrix keeps a reference to {@code data}, which must outlive it.
     */
    public static FloatMatrix mapped(String name, int rows, int cols, StoredType type, MemorySegment data) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException(name + ": negative shape [" + rows + ", " + cols + "]");
        long expected = (long) rows * cols * type.bytes();
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(name + ": [" + rows + ", " + cols + "] " + type + " needs " + expected
                    + " bytes, the data has " + data.byteSize());
        }
        return switch (type) {
            case F32 -> new F32Matrix(name, rows, cols, data);
            case BF16 -> new BF16Matrix(name, rows, cols, data);
            case F16 -> new F16Matrix(name, rows, cols, data);
        };
    }

    /**
     * This matrix in {@code format}: itself for {@link WeightFormat#AS_STORED}, else a quantized copy (quantizing
     * releases a mapped matrix's pages as it goes, see {@link #release}).
     */
    public FloatMatrix inFormat(WeightFormat format) {
        return switch (format) {
            case AS_STORED -> this;
            case Q8 -> Q8Matrix.quantize(this);
            case Q4 -> Q4Matrix.quantize(this);
        };
    }

    public String name() {
        return name;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Bytes of storage (what streaming this matrix once costs in memory bandwidth). */
    public abstract long storageBytes();

    /** Stored bytes per element. */
    public double bytesPerElement() {
        return (double) storageBytes() / ((long) rows * cols);
    }

    /**
     * Row r widened to float32 into {@code out[offset..offset+cols)} (vector loads, then the ragged tail).
     * Deliberately not {@link #widenRun}: quantizing reads the stored format here while GEMM packing reads
     * the quantized one there, and one shared call site sees both types, stops inlining {@code load} and
     * boxes every vector (paligemma2 q4: SigLIP 1.27 -> 1.69 s, prefill 48 -> 36 tok/s).
     */
    void readRow(int r, float[] out, int offset) {
        int vectorCols = cols - cols % LANES;
        for (int c = 0; c < vectorCols; c += LANES) load(r, c).intoArray(out, offset + c);
        for (int c = vectorCols; c < cols; c++) out[offset + c] = get(r, c);
    }

    /**
     * Tells a matrix read from a mapped file that rows [from, to) will not be read again, so their pages
     * can leave this process's resident memory (quantizing at load would otherwise hold the whole stored
     * copy of a tensor, a gigabyte for the LM head, next to the quantized one). Other matrices ignore it.
     */
    void release(int from, int to) {}

    /**
     * Brings rows [from, to) into the cache ahead of the batched decode kernels ({@link #matvecRowsBatched}); the
     * return value only keeps the reads from being dropped. Matrices read in place from the checkpoint do it
     * ({@link MappedMatrix}); the others do nothing: activations are in cache already, and the quantized kernels
     * read a single row at a time, one stream the hardware prefetcher follows, and are bound by their arithmetic
     * (touching made a q8 step of four sequences 8–12% slower).
     */
    int touchRows(int from, int to) {
        return 0;
    }

    /** Bytes of storage per row, for sizing the batched kernels' row blocks. */
    long rowBytes() {
        return storageBytes() / Math.max(1, rows);
    }

    /** Element (r, c) as float32. */
    public abstract float get(int r, int c);

    /** {@code LANES} consecutive elements of row r from column c, as float32. */
    abstract FloatVector load(int r, int c);

    /**
     * Copies the block {@code W[r0 .. r0+rowCount)[k0 .. k0+kCount)} transposed into {@code panel}:
     * {@code panel[kk·width + j] = W[r0 + j][k0 + kk]}, rows past {@code rowCount} zero. The rows are
     * widened into a float32 copy first and that copy is transposed: the 16×16 in-register transpose
     * inlines sixteen loads, which the JIT manages for float32 arrays but not for every storage format
     * (it boxed each vector of a quantized load, allocating gigabytes per prefill).
     */
    void packTransposed(int r0, int rowCount, int k0, int kCount, float[] panel, int width) {
        float[] widened = WIDENED.atLeast(rowCount * kCount);
        for (int j = 0; j < rowCount; j++) widenRun(r0 + j, k0, kCount, widened, j * kCount);
        new ArrayMatrix(name, widened, rowCount, kCount).packTransposed(0, rowCount, 0, kCount, panel, width);
    }

    private static final ThreadBuffer WIDENED = new ThreadBuffer();

    /** {@code out[offset + i] = W[r][c0 + i]} for i < count: whole vectors where they line up, elements elsewhere. */
    private void widenRun(int r, int c0, int count, float[] out, int offset) {
        int c = c0, end = c0 + count;
        for (; c < end && c % LANES != 0; c++) out[offset + c - c0] = get(r, c);
        for (; c + LANES <= end; c += LANES) load(r, c).intoArray(out, offset + c - c0);
        for (; c < end; c++) out[offset + c - c0] = get(r, c);
    }

    /** Copies row r (widened to float32) into {@code out[offset..offset+cols)}: embedding lookup. */
    public void row(int r, float[] out, int offset) {
        readRow(r, out, offset);
    }

    /**
     * {@code y[t][r] = Σ_c W[r][c] · x[t][c]} for every token t < tokens; x is {@code [tokens, cols]},
     * y is {@code [tokens, rows]}. Rows are split across the worker threads.
     */
    public void matmul(float[] x, int tokens, float[] y) {
        matmul(x, tokens, y, null);
    }

    /** {@link #matmul(float[], int, float[])} followed by {@code y[t][r] += bias[r]} (a linear layer's bias), if bias is not null. */
    public void matmul(float[] x, int tokens, float[] y, float[] bias) {
        matmulAll(x, tokens, new Product(this, y, bias, Epilogue.STORE));
    }

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    /**
     * {@code y = W·x + b} like {@link #matmul(float[], int, float[], float[])}, but each output summed in double
     * and rounded to float32 once. For products that are a sliver of a model's work but whose float32 sums
     * are long and land directly in its features: SigLIP's patch embedding (588 columns of raw pixels, 0.2%
     * of the encoder's multiply-adds) was the largest single source of the vision features' rounding error.
     * Rows are split across the worker threads; every sum is taken in one fixed order.
     */
    public void matmulInDouble(float[] x, int tokens, float[] y, float[] bias) {
        if (x.length < (long) tokens * cols || y.length < (long) tokens * rows) {
            throw new IllegalArgumentException(name + ": matmul of [" + tokens + ", " + cols + "] into [" + tokens + ", "
                    + rows + "] with buffers of " + x.length + " and " + y.length);
        }
        double[] inputs = new double[tokens * cols];
        for (int i = 0; i < inputs.length; i++) inputs[i] = x[i];
        int minRows = (int) Math.max(1, (1L << 16) / ((long) cols * tokens));
        Parallel.forRange(rows, minRows, (from, to) -> {
            float[] widened = new float[cols];
            double[] block = new double[IN_DOUBLE_ROW_BLOCK * cols];
            for (int r0 = from; r0 < to; r0 += IN_DOUBLE_ROW_BLOCK) {
                int r1 = Math.min(to, r0 + IN_DOUBLE_ROW_BLOCK);
                for (int r = r0; r < r1; r++) {
                    readRow(r, widened, 0);
                    for (int c = 0; c < cols; c++) block[(r - r0) * cols + c] = widened[c];
                }
                int t = 0;
                for (; t + 4 <= tokens; t += 4) {
                    int r = r0;
                    for (; r + 2 <= r1; r += 2) dotsInDouble2x4(block, (r - r0) * cols, inputs, t, cols, y, rows, r, bias);
                    for (; r < r1; r++) {
                        double[] s = dotsInDouble(block, (r - r0) * cols, inputs, t * cols, cols);
                        for (int i = 0; i < 4; i++) y[(t + i) * rows + r] = (float) (bias == null ? s[i] : s[i] + bias[r]);
                    }
                }
                for (; t < tokens; t++) {
                    for (int r = r0; r < r1; r++) {
                        double s = dotInDouble(block, (r - r0) * cols, inputs, t * cols, cols);
                        y[t * rows + r] = (float) (bias == null ? s : s + bias[r]);
                    }
                }
            }
        });
    }

    /**
     * Rows of W widened to double together in {@link #matmulInDouble} (8 rows of SigLIP's 588 columns: 37 KB): every
     * group of four tokens' inputs is read once per block rather than once per row. Row by row, the inputs (1.2 MB
     * per 224 px image, 19 MB at 896 px) streamed from the outer caches once for each of the 1,152 rows.
     */
    private static final int IN_DOUBLE_ROW_BLOCK = 8;

    /**
     * {@link #dotsInDouble} for two rows of a (from ao and ao + n) and tokens t … t+3 of b ({@code [tokens, n]}), the
     * results (plus bias) stored as float into y {@code [tokens, rows]} at rows r and r+1: each dot's additions exactly
     * as there, each loaded input vector serving both rows.
     */
    private static void dotsInDouble2x4(double[] a, int ao, double[] b, int t, int n, float[] y, int rows, int r,
                                        float[] bias) {
        DoubleVector p00 = DoubleVector.zero(D), p01 = p00, p10 = p00, p11 = p00, p20 = p00, p21 = p00, p30 = p00, p31 = p00;
        DoubleVector q00 = p00, q01 = p00, q10 = p00, q11 = p00, q20 = p00, q21 = p00, q30 = p00, q31 = p00;
        int c = 0, step = D.length(), a1 = ao + n, b0 = t * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
        for (; c + 2 * step <= n; c += 2 * step) {
            DoubleVector u0 = DoubleVector.fromArray(D, a, ao + c), u1 = DoubleVector.fromArray(D, a, ao + c + step);
            DoubleVector v0 = DoubleVector.fromArray(D, a, a1 + c), v1 = DoubleVector.fromArray(D, a, a1 + c + step);
            DoubleVector x0 = DoubleVector.fromArray(D, b, b0 + c), x1 = DoubleVector.fromArray(D, b, b0 + c + step);
            p00 = u0.fma(x0, p00);
            p01 = u1.fma(x1, p01);
            q00 = v0.fma(x0, q00);
            q01 = v1.fma(x1, q01);
            x0 = DoubleVector.fromArray(D, b, b1 + c);
            x1 = DoubleVector.fromArray(D, b, b1 + c + step);
            p10 = u0.fma(x0, p10);
            p11 = u1.fma(x1, p11);
            q10 = v0.fma(x0, q10);
            q11 = v1.fma(x1, q11);
            x0 = DoubleVector.fromArray(D, b, b2 + c);
            x1 = DoubleVector.fromArray(D, b, b2 + c + step);
            p20 = u0.fma(x0, p20);
            p21 = u1.fma(x1, p21);
            q20 = v0.fma(x0, q20);
            q21 = v1.fma(x1, q21);
            x0 = DoubleVector.fromArray(D, b, b3 + c);
            x1 = DoubleVector.fromArray(D, b, b3 + c + step);
            p30 = u0.fma(x0, p30);
            p31 = u1.fma(x1, p31);
            q30 = v0.fma(x0, q30);
            q31 = v1.fma(x1, q31);
        }
        double[] p = {sumInOrder(p00.add(p01)), sumInOrder(p10.add(p11)), sumInOrder(p20.add(p21)), sumInOrder(p30.add(p31))};
        double[] q = {sumInOrder(q00.add(q01)), sumInOrder(q10.add(q11)), sumInOrder(q20.add(q21)), sumInOrder(q30.add(q31))};
        for (int i = 0; i < 4; i++) {
            int bi = b0 + i * n;
            for (int k = c; k < n; k++) {
                p[i] += a[ao + k] * b[bi + k];
                q[i] += a[a1 + k] * b[bi + k];
            }
            y[(t + i) * rows + r] = (float) (bias == null ? p[i] : p[i] + bias[r]);
            y[(t + i) * rows + r + 1] = (float) (bias == null ? q[i] : q[i] + bias[r + 1]);
        }
    }

    /** {@link #dotInDouble} of {@code a} with four consecutive rows of b (from bo, n apart): the same sums, each row of a loaded once. */
    private static double[] dotsInDouble(double[] a, int ao, double[] b, int bo, int n) {
        DoubleVector a00 = DoubleVector.zero(D), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        int c = 0, step = D.length(), b1 = bo + n, b2 = b1 + n, b3 = b2 + n;
        for (; c + 2 * step <= n; c += 2 * step) {
            DoubleVector w0 = DoubleVector.fromArray(D, a, ao + c), w1 = DoubleVector.fromArray(D, a, ao + c + step);
            a00 = w0.fma(DoubleVector.fromArray(D, b, bo + c), a00);
            a01 = w1.fma(DoubleVector.fromArray(D, b, bo + c + step), a01);
            a10 = w0.fma(DoubleVector.fromArray(D, b, b1 + c), a10);
            a11 = w1.fma(DoubleVector.fromArray(D, b, b1 + c + step), a11);
            a20 = w0.fma(DoubleVector.fromArray(D, b, b2 + c), a20);
            a21 = w1.fma(DoubleVector.fromArray(D, b, b2 + c + step), a21);
            a30 = w0.fma(DoubleVector.fromArray(D, b, b3 + c), a30);
            a31 = w1.fma(DoubleVector.fromArray(D, b, b3 + c + step), a31);
        }
        double[] s = {sumInOrder(a00.add(a01)), sumInOrder(a10.add(a11)), sumInOrder(a20.add(a21)), sumInOrder(a30.add(a31))};
        for (; c < n; c++) {
            s[0] += a[ao + c] * b[bo + c];
            s[1] += a[ao + c] * b[b1 + c];
            s[2] += a[ao + c] * b[b2 + c];
            s[3] += a[ao + c] * b[b3 + c];
        }
        return s;
    }

    private static double sumInOrder(DoubleVector v) {
        double s = 0;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }

    /** {@code Σ a[c]·b[bo + c]} over c < n in double: two vector accumulators, their lanes summed in order, then the tail. */
    private static double dotInDouble(double[] a, int ao, double[] b, int bo, int n) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0;
        int c = 0, step = D.length();
        for (; c + 2 * step <= n; c += 2 * step) {
            a0 = DoubleVector.fromArray(D, a, ao + c).fma(DoubleVector.fromArray(D, b, bo + c), a0);
            a1 = DoubleVector.fromArray(D, a, ao + c + step).fma(DoubleVector.fromArray(D, b, bo + c + step), a1);
        }
        double s = sumInOrder(a0.add(a1));
        for (; c < n; c++) s += a[ao + c] * b[bo + c];
        return s;
    }

    /**
     * Several products of the same inputs x {@code [tokens, cols]}, such as a layer's query, key and value
     * projections: with many tokens they run as one parallel section in which each thread packs the
     * inputs once for all of them.
     */
    public static void matmulAll(float[] x, int tokens, Product... products) {
        int cols = products[0].weight().cols;
        for (Product p : products) {
            FloatMatrix w = p.weight();
            if (w.cols != cols) {
                throw new IllegalArgumentException(w.name + ": " + w.cols + " columns, but " + products[0].weight().name
                        + " has " + cols + " and they share the inputs");
            }
            if (x.length < (long) tokens * cols || p.out().length < (long) tokens * w.rows) {
                throw new IllegalArgumentException(w.name + ": matmul of [" + tokens + ", " + cols + "] into [" + tokens
                        + ", " + w.rows + "] with buffers of " + x.length + " and " + p.out().length);
            }
        }
        if (tokens >= PackedGemm.MIN_TOKENS) {
            PackedGemm.multiply(products, x, tokens);
            return;
        }
        for (Product p : products) {
            FloatMatrix w = p.weight();
            // Chunks of at least ~64k multiply-adds: enough to outweigh handing the chunk to a thread.
            int minRows = (int) Math.max(1, (1L << 16) / ((long) cols * tokens));
            boolean accumulate = p.epilogue().accumulates();
            if (tokens == 1) {
                Parallel.forRange(w.rows, minRows, w.matvecTask(w.matvecInputs(x, 1), p.out(), accumulate));
            } else {
                Parallel.forRange(w.rows, minRows, (from, to) -> w.matmulRows(x, tokens, p.out(), from, to, accumulate));
            }
            p.epilogue().finish(p.out(), 0, tokens, w.rows, 0, w.rows, p.bias());
        }
    }

    /** Rows per block in {@link #matvecAll}: a block's weights stay in cache while every token reads them. */
    private static final int BATCH_ROW_BLOCK = 8;

    /**
     * Bytes of weights per row block in the batched kernels (at least {@link #BATCH_ROW_BLOCK} rows are taken
     * when narrower): small enough to stay in the second-level cache beside the inputs, large enough that
     * touching it is a long run of independent reads.
     */
    private static final long BATCH_BLOCK_BYTES = 64 << 10;

    /** Bytes per cache line on the CPUs this runs on (x86-64 and AArch64 alike): one touch per line. */
    static final int CACHE_LINE = 64;

    /** Sink of {@link #touchRows}' sums: a store to a static field, which the JIT cannot drop with the reads. */
    private static int touchedSum;

    /**
     * Several sequences' decode step at once: x {@code [tokens, cols]} holds one input vector per sequence,
     * and each token's outputs are computed exactly as a lone decode step computes them ({@link #matvecRows}:
     * same sums in the same order, so a sequence's tokens do not depend on which others share its batch).
     * Each thread walks its rows in small blocks and runs every token over a block while the block is in
     * cache, so the weights come from memory once per step however many sequences there are.
     */
    public static void matvecAll(float[] x, int tokens, Product... products) {
        if (tokens == 1) {
            matmulAll(x, 1, products);
            return;
        }
        for (Product p : products) {
            FloatMatrix w = p.weight();
            if (x.length < (long) tokens * w.cols || p.out().length < (long) tokens * w.rows) {
                throw new IllegalArgumentException(w.name + ": batched matvec of [" + tokens + ", " + w.cols + "] into ["
                        + tokens + ", " + w.rows + "] with buffers of " + x.length + " and " + p.out().length);
            }
            float[] inputs = w.matvecInputs(x, tokens);
            boolean accumulate = p.epilogue().accumulates();
            int minRows = (int) Math.max(BATCH_ROW_BLOCK, (1L << 16) / ((long) w.cols * tokens));
            Parallel.forRange(w.rows, minRows, w.matvecBatchTask(inputs, tokens, p.out(), accumulate));
            p.epilogue().finish(p.out(), 0, tokens, w.rows, 0, w.rows, p.bias());
        }
    }

    /** The batched decode product as a task over ranges of rows; formats with their own kernel return their own lambda. */
    Parallel.RangeBody matvecBatchTask(float[] x, int tokens, float[] y, boolean accumulate) {
        return (from, to) -> matvecRowsBatched(x, tokens, y, from, to, accumulate);
    }

    /**
     * Rows [rowFrom, rowTo) of a batched decode product, single-threaded: in blocks of rows, every group of
     * {@link #BATCH_TOKEN_GROUP} tokens shares each loaded weight vector ({@link #matvecRowGroup}), and tokens left
     * over run alone over the block while it is in cache. Either way each token's sums are those of
     * {@link #matvecRows}.
     * <p>
     * Each block is first {@link #touchRows touched}, one read per cache line, and only then computed. The group
     * kernels spend dozens of instructions on each cache line of weights (several tokens' multiply-adds), so while
     * they stream from memory the out-of-order window holds only a few misses at once: four tokens over bf16
     * weights ran at 11 GB/s on one core (AMD EPYC), where one token streams at 19. A run of bare reads keeps many
     * misses in flight and brings the block in at about the bandwidth; the kernels then find it in cache (16.5 GB/s
     * for four tokens). Java has no prefetch instruction, which would overlap the two.
     */
    void matvecRowsBatched(float[] x, int tokens, float[] y, int rowFrom, int rowTo, boolean accumulate) {
        int grouped = tokens - tokens % BATCH_TOKEN_GROUP;
        float[] interleaved = interleaveGroups(x, grouped);
        int blockRows = (int) Math.max(BATCH_ROW_BLOCK, BATCH_BLOCK_BYTES / Math.max(1, rowBytes())) & ~1;
        int touched = 0;
        for (int r0 = rowFrom; r0 < rowTo; r0 += blockRows) {
            int r1 = Math.min(rowTo, r0 + blockRows);
            touched += touchRows(r0, r1);
            for (int t = 0; t < grouped; t += BATCH_TOKEN_GROUP) {
                int r = r0;
                for (; r + 1 < r1; r += 2) matvecRowPairGroup(x, interleaved, t, y, r, accumulate);
                if (r < r1) matvecRowGroup(x, interleaved, t, y, r, accumulate);
            }
            int t = grouped;
            if (tokens - t >= 2) {
                int r = r0;
                for (; r + 1 < r1; r += 2) matvecRowPairDuo(x, t, y, r, accumulate);
                if (r < r1) for (int d = t; d < t + 2; d++) matvecRows(x, d * cols, y, d * rows, r, r + 1, accumulate);
                t += 2;
            }
            for (; t < tokens; t++) matvecRows(x, t * cols, y, t * rows, r0, r1, accumulate);
        }
        touchedSum += touched;
    }

    /**
     * Rows r and r+1 for the two tokens t0 and t0+1 (two sequences left over after the groups of four): each
     * loaded weight vector serves both tokens and each input vector both rows, eight accumulators where one row
     * alone has two. Each row's and token's sums are exactly those of {@link #matvecRows}. Formats with their
     * own decode kernel override it with two calls of theirs.
     */
    void matvecRowPairDuo(float[] x, int t0, float[] y, int r, boolean accumulate) {
        int vectorCols = cols - cols % LANES;
        int o0 = t0 * cols, o1 = o0 + cols;
        FloatVector p00 = FloatVector.zero(F), p01 = p00, p10 = p00, p11 = p00, q00 = p00, q01 = p00, q10 = p00, q11 = p00;
        int c = 0;
        for (; c + 2 * LANES <= vectorCols; c += 2 * LANES) {
            FloatVector u0 = load(r, c), v0 = load(r + 1, c);
            FloatVector a0 = FloatVector.fromArray(F, x, o0 + c), b0 = FloatVector.fromArray(F, x, o1 + c);
            p00 = u0.fma(a0, p00);
            q00 = v0.fma(a0, q00);
            p10 = u0.fma(b0, p10);
            q10 = v0.fma(b0, q10);
            FloatVector u1 = load(r, c + LANES), v1 = load(r + 1, c + LANES);
            FloatVector a1 = FloatVector.fromArray(F, x, o0 + c + LANES), b1 = FloatVector.fromArray(F, x, o1 + c + LANES);
            p01 = u1.fma(a1, p01);
            q01 = v1.fma(a1, q01);
            p11 = u1.fma(b1, p11);
            q11 = v1.fma(b1, q11);
        }
        for (; c < vectorCols; c += LANES) {
            FloatVector u0 = load(r, c), v0 = load(r + 1, c);
            FloatVector a0 = FloatVector.fromArray(F, x, o0 + c), b0 = FloatVector.fromArray(F, x, o1 + c);
            p00 = u0.fma(a0, p00);
            q00 = v0.fma(a0, q00);
            p10 = u0.fma(b0, p10);
            q10 = v0.fma(b0, q10);
        }
        finishRowDuo(x, t0, y, r, vectorCols, Ops.sumLanes(p00.add(p01)), Ops.sumLanes(p10.add(p11)), accumulate);
        finishRowDuo(x, t0, y, r + 1, vectorCols, Ops.sumLanes(q00.add(q01)), Ops.sumLanes(q10.add(q11)), accumulate);
    }

    /** {@link #finishRowGroup} for two tokens: the ragged columns from {@code from} on, then the stores. */
    final void finishRowDuo(float[] x, int t0, float[] y, int r, int from, float s0, float s1, boolean accumulate) {
        int o0 = t0 * cols, o1 = o0 + cols;
        for (int c = from; c < cols; c++) {
            float w = get(r, c);
            s0 += w * x[o0 + c];
            s1 += w * x[o1 + c];
        }
        put(y, t0 * rows + r, s0, accumulate);
        put(y, (t0 + 1) * rows + r, s1, accumulate);
    }

    /** Tokens whose decode products share each loaded weight vector in the batched kernels. */
    static final int BATCH_TOKEN_GROUP = 4;

    private static final ThreadBuffer INTERLEAVED = new ThreadBuffer();

    /**
     * The first {@code tokens} rows of x (a multiple of {@link #BATCH_TOKEN_GROUP}) rearranged so that the group
     * kernels find each group's four input vectors for a column next to each other: vector j of token i of group
     * g at {@code g·4·cols + (4j + i)·LANES}. One index then addresses all four loads (constant offsets), where
     * four rows of x apart cost an address computation and a register each. Ragged columns are not copied.
     */
    final float[] interleaveGroups(float[] x, int tokens) {
        if (tokens == 0) return x;
        int vectorCols = cols - cols % LANES;
        float[] out = INTERLEAVED.atLeast(tokens * cols);
        for (int t0 = 0; t0 < tokens; t0 += BATCH_TOKEN_GROUP) {
            int g = t0 * cols;
            for (int i = 0; i < BATCH_TOKEN_GROUP; i++) {
                int o = (t0 + i) * cols;
                for (int c = 0; c < vectorCols; c += LANES) FloatVector.fromArray(F, x, o + c).intoArray(out, g + 4 * c + i * LANES);
            }
        }
        return out;
    }

    /**
     * Row r for tokens t0 … t0+3 at once: each weight vector is loaded (and widened) once for the four tokens, and
     * each token's two accumulators see exactly the additions {@link #matvecRows} makes, in the same order. The
     * inputs come {@link #interleaveGroups interleaved}; x itself serves the ragged columns.
     */
    void matvecRowGroup(float[] x, float[] xi, int t0, float[] y, int r, boolean accumulate) {
        int vectorCols = cols - cols % LANES;
        int g = t0 * cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        int c = 0;
        for (; c + 2 * LANES <= vectorCols; c += 2 * LANES) {
            FloatVector w0 = load(r, c), w1 = load(r, c + LANES);
            int o = g + 4 * c;
            a00 = w0.fma(FloatVector.fromArray(F, xi, o), a00);
            a10 = w0.fma(FloatVector.fromArray(F, xi, o + LANES), a10);
            a20 = w0.fma(FloatVector.fromArray(F, xi, o + 2 * LANES), a20);
            a30 = w0.fma(FloatVector.fromArray(F, xi, o + 3 * LANES), a30);
            a01 = w1.fma(FloatVector.fromArray(F, xi, o + 4 * LANES), a01);
            a11 = w1.fma(FloatVector.fromArray(F, xi, o + 5 * LANES), a11);
            a21 = w1.fma(FloatVector.fromArray(F, xi, o + 6 * LANES), a21);
            a31 = w1.fma(FloatVector.fromArray(F, xi, o + 7 * LANES), a31);
        }
        for (; c < vectorCols; c += LANES) {
            FloatVector w0 = load(r, c);
            int o = g + 4 * c;
            a00 = w0.fma(FloatVector.fromArray(F, xi, o), a00);
            a10 = w0.fma(FloatVector.fromArray(F, xi, o + LANES), a10);
            a20 = w0.fma(FloatVector.fromArray(F, xi, o + 2 * LANES), a20);
            a30 = w0.fma(FloatVector.fromArray(F, xi, o + 3 * LANES), a30);
        }
        finishRowGroup(x, t0, y, r, vectorCols, Ops.sumLanes(a00.add(a01)), Ops.sumLanes(a10.add(a11)),
                Ops.sumLanes(a20.add(a21)), Ops.sumLanes(a30.add(a31)), accumulate);
    }

    /**
     * {@link #matvecRowGroup} for rows r and r+1 together: each loaded input vector serves both rows, which halves
     * the loads of inputs per multiply-add. With the interleaved inputs, four tokens over cache-resident 256×2048
     * bf16 weights went from 24 to 40 GB/s (AMD EPYC, 2 cores); streaming weights from memory, the gain was within
     * the run-to-run spread. Sixteen accumulators, each row's and token's sums exactly as {@link #matvecRows}
     * makes them.
     */
    void matvecRowPairGroup(float[] x, float[] xi, int t0, float[] y, int r, boolean accumulate) {
        int vectorCols = cols - cols % LANES;
        int g = t0 * cols;
        FloatVector p00 = FloatVector.zero(F), p01 = p00, p10 = p00, p11 = p00, p20 = p00, p21 = p00, p30 = p00, p31 = p00;
        FloatVector q00 = p00, q01 = p00, q10 = p00, q11 = p00, q20 = p00, q21 = p00, q30 = p00, q31 = p00;
        int c = 0;
        for (; c + 2 * LANES <= vectorCols; c += 2 * LANES) {
            FloatVector u0 = load(r, c), v0 = load(r + 1, c);
            int o = g + 4 * c;
            FloatVector x0 = FloatVector.fromArray(F, xi, o);
            p00 = u0.fma(x0, p00);
            q00 = v0.fma(x0, q00);
            FloatVector x1 = FloatVector.fromArray(F, xi, o + LANES);
            p10 = u0.fma(x1, p10);
            q10 = v0.fma(x1, q10);
            FloatVector x2 = FloatVector.fromArray(F, xi, o + 2 * LANES);
            p20 = u0.fma(x2, p20);
            q20 = v0.fma(x2, q20);
            FloatVector x3 = FloatVector.fromArray(F, xi, o + 3 * LANES);
            p30 = u0.fma(x3, p30);
            q30 = v0.fma(x3, q30);
            FloatVector u1 = load(r, c + LANES), v1 = load(r + 1, c + LANES);
            FloatVector x4 = FloatVector.fromArray(F, xi, o + 4 * LANES);
            p01 = u1.fma(x4, p01);
            q01 = v1.fma(x4, q01);
            FloatVector x5 = FloatVector.fromArray(F, xi, o + 5 * LANES);
            p11 = u1.fma(x5, p11);
            q11 = v1.fma(x5, q11);
            FloatVector x6 = FloatVector.fromArray(F, xi, o + 6 * LANES);
            p21 = u1.fma(x6, p21);
            q21 = v1.fma(x6, q21);
            FloatVector x7 = FloatVector.fromArray(F, xi, o + 7 * LANES);
            p31 = u1.fma(x7, p31);
            q31 = v1.fma(x7, q31);
        }
        for (; c < vectorCols; c += LANES) {
            FloatVector u0 = load(r, c), v0 = load(r + 1, c);
            int o = g + 4 * c;
            FloatVector x0 = FloatVector.fromArray(F, xi, o), x1 = FloatVector.fromArray(F, xi, o + LANES);
            FloatVector x2 = FloatVector.fromArray(F, xi, o + 2 * LANES), x3 = FloatVector.fromArray(F, xi, o + 3 * LANES);
            p00 = u0.fma(x0, p00);
            q00 = v0.fma(x0, q00);
            p10 = u0.fma(x1, p10);
            q10 = v0.fma(x1, q10);
            p20 = u0.fma(x2, p20);
            q20 = v0.fma(x2, q20);
            p30 = u0.fma(x3, p30);
            q30 = v0.fma(x3, q30);
        }
        finishRowGroup(x, t0, y, r, vectorCols, Ops.sumLanes(p00.add(p01)), Ops.sumLanes(p10.add(p11)),
                Ops.sumLanes(p20.add(p21)), Ops.sumLanes(p30.add(p31)), accumulate);
        finishRowGroup(x, t0, y, r + 1, vectorCols, Ops.sumLanes(q00.add(q01)), Ops.sumLanes(q10.add(q11)),
                Ops.sumLanes(q20.add(q21)), Ops.sumLanes(q30.add(q31)), accumulate);
    }

    /**
     * The end of a row group: the columns from {@code from} on (a ragged tail that no whole vector or block
     * covers) added one by one to the four tokens' sums, as {@link #matvecRows} adds them, then the sums stored.
     */
    final void finishRowGroup(float[] x, int t0, float[] y, int r, int from, float s0, float s1, float s2, float s3,
                              boolean accumulate) {
        int o0 = t0 * cols, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
        for (int c = from; c < cols; c++) {
            float w = get(r, c);
            s0 += w * x[o0 + c];
            s1 += w * x[o1 + c];
            s2 += w * x[o2 + c];
            s3 += w * x[o3 + c];
        }
        put(y, t0 * rows + r, s0, accumulate);
        put(y, (t0 + 1) * rows + r, s1, accumulate);
        put(y, (t0 + 2) * rows + r, s2, accumulate);
        put(y, (t0 + 3) * rows + r, s3, accumulate);
    }

    /**
     * Decode's product (one input vector, prepared by {@link #matvecInputs}) as a task over ranges of rows
     * for the worker threads. A format with its own kernel returns a lambda written in its own class, so
     * that the threads call each format's loop through a separate class and the JIT compiles it with that
     * format's kernel alone: through one shared lambda, a q4 model's layers and its q8 LM head met at one
     * call site, the JIT inlined both kernels there, ran out of room, and left the lane sums out of line,
     * boxing a vector per row.
     */
    Parallel.RangeBody matvecTask(float[] x, float[] y, boolean accumulate) {
        return (from, to) -> matvecRows(x, 0, y, 0, from, to, accumulate);
    }

    /**
     * Rows [rowFrom, rowTo) of the product, single-threaded, stored or added into y: four tokens at a time
     * share each loaded weight vector, and the tokens left over (all of them, in decode) go through the
     * format's {@link #matvecRows}.
     */
    void matmulRows(float[] x, int tokens, float[] y, int rowFrom, int rowTo, boolean accumulate) {
        int vectorCols = cols - cols % LANES, tiled = tokens - tokens % TOKEN_TILE;
        for (int r = rowFrom; r < rowTo && tiled > 0; r++) {
            for (int t = 0; t < tiled; t += TOKEN_TILE) {
                int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                for (int c = 0; c < vectorCols; c += LANES) {
                    FloatVector w = load(r, c);
                    a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
                    a1 = w.fma(FloatVector.fromArray(F, x, x1 + c), a1);
                    a2 = w.fma(FloatVector.fromArray(F, x, x2 + c), a2);
                    a3 = w.fma(FloatVector.fromArray(F, x, x3 + c), a3);
                }
                float s0 = Ops.sumLanes(a0), s1 = Ops.sumLanes(a1);
                float s2 = Ops.sumLanes(a2), s3 = Ops.sumLanes(a3);
                for (int c = vectorCols; c < cols; c++) {
                    float w = get(r, c);
                    s0 += w * x[x0 + c];
                    s1 += w * x[x1 + c];
                    s2 += w * x[x2 + c];
                    s3 += w * x[x3 + c];
                }
                put(y, t * rows + r, s0, accumulate);
                put(y, (t + 1) * rows + r, s1, accumulate);
                put(y, (t + 2) * rows + r, s2, accumulate);
                put(y, (t + 3) * rows + r, s3, accumulate);
            }
        }
        if (tiled == tokens) return;
        float[] inputs = matvecInputs(x, tokens);
        for (int t = tiled; t < tokens; t++) matvecRows(inputs, t * cols, y, t * rows, rowFrom, rowTo, accumulate);
    }

    static void put(float[] y, int i, float sum, boolean accumulate) {
        y[i] = accumulate ? y[i] + sum : sum;
    }

    /**
     * The inputs x {@code [tokens, cols]} as {@link #matvecRows} reads them: x itself, unless a format's
     * kernel wants them prepared once per product rather than once per row.
     */
    float[] matvecInputs(float[] x, int tokens) {
        return x;
    }

    /**
     * {@code y[yOffset + r] = W[r] · x[xOffset…]} (or {@code +=}) for rows [rowFrom, rowTo), x from
     * {@link #matvecInputs}: the decode kernel. Each format with its own loop overrides this whole method,
     * not just a per-row dot product, and hands it to the threads through {@link #matvecTask}.
     */
    void matvecRows(float[] x, int xOffset, float[] y, int yOffset, int rowFrom, int rowTo, boolean accumulate) {
        int vectorCols = cols - cols % LANES;
        int r = rowFrom;
        if (cols >= QUAD_ROW_MIN_COLS) {
            for (; r + 4 <= rowTo; r += 4) matvecRowQuad(x, xOffset, y, yOffset, r, accumulate);
        }
        for (; r < rowTo; r++) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            int c = 0;
            for (; c + 2 * LANES <= vectorCols; c += 2 * LANES) {
                a0 = load(r, c).fma(FloatVector.fromArray(F, x, xOffset + c), a0);
                a1 = load(r, c + LANES).fma(FloatVector.fromArray(F, x, xOffset + c + LANES), a1);
            }
            for (; c < vectorCols; c += LANES) a0 = load(r, c).fma(FloatVector.fromArray(F, x, xOffset + c), a0);
            float s = Ops.sumLanes(a0.add(a1));
            for (c = vectorCols; c < cols; c++) s += get(r, c) * x[xOffset + c];
            put(y, yOffset + r, s, accumulate);
        }
    }

    /**
     * Rows at least this wide go through {@link #matvecRowQuad}: their input vector no longer fits the first-level
     * cache next to the weights streaming through it (a 16,384-wide row's input is 64 KB), and reading it again
     * for every row bounded Gemma's MLP down projection (bf16, 2 cores, AMD EPYC) at 15.4–16.5 GB/s of weights,
     * 21.8–26.3 GB/s four rows at a time. Narrower rows stay one at a time: four 2,048-wide rows at once ran the
     * gate projection at 8.4 GB/s instead of 32.6 (rows 4 KB apart).
     */
    static final int QUAD_ROW_MIN_COLS = 4096;

    /**
     * {@link #matvecRows} for rows r … r+3 at once: each loaded input vector serves four rows. Each row keeps its
     * own two accumulators and sees exactly the additions of the one-row loop, in the same order.
     */
    void matvecRowQuad(float[] x, int xOffset, float[] y, int yOffset, int r, boolean accumulate) {
        int vectorCols = cols - cols % LANES;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int c = 0;
        for (; c + 2 * LANES <= vectorCols; c += 2 * LANES) {
            FloatVector x0 = FloatVector.fromArray(F, x, xOffset + c), x1 = FloatVector.fromArray(F, x, xOffset + c + LANES);
            a0 = load(r, c).fma(x0, a0);
            a1 = load(r, c + LANES).fma(x1, a1);
            b0 = load(r + 1, c).fma(x0, b0);
            b1 = load(r + 1, c + LANES).fma(x1, b1);
            c0 = load(r + 2, c).fma(x0, c0);
            c1 = load(r + 2, c + LANES).fma(x1, c1);
            d0 = load(r + 3, c).fma(x0, d0);
            d1 = load(r + 3, c + LANES).fma(x1, d1);
        }
        for (; c < vectorCols; c += LANES) {
            FloatVector x0 = FloatVector.fromArray(F, x, xOffset + c);
            a0 = load(r, c).fma(x0, a0);
            b0 = load(r + 1, c).fma(x0, b0);
            c0 = load(r + 2, c).fma(x0, c0);
            d0 = load(r + 3, c).fma(x0, d0);
        }
        float sa = Ops.sumLanes(a0.add(a1)), sb = Ops.sumLanes(b0.add(b1));
        float sc = Ops.sumLanes(c0.add(c1)), sd = Ops.sumLanes(d0.add(d1));
        finishRowQuad(x, xOffset, y, yOffset, r, vectorCols, sa, sb, sc, sd, accumulate);
    }

    /**
     * The end of {@link #matvecRowQuad}: the ragged columns from {@code from} on added one by one to the four rows'
     * sums, as the one-row loop adds them, then the sums stored.
     */
    final void finishRowQuad(float[] x, int xOffset, float[] y, int yOffset, int r, int from, float sa, float sb, float sc,
                             float sd, boolean accumulate) {
        for (int c = from; c < cols; c++) {
            float xc = x[xOffset + c];
            sa += get(r, c) * xc;
            sb += get(r + 1, c) * xc;
            sc += get(r + 2, c) * xc;
            sd += get(r + 3, c) * xc;
        }
        put(y, yOffset + r, sa, accumulate);
        put(y, yOffset + r + 1, sb, accumulate);
        put(y, yOffset + r + 2, sc, accumulate);
        put(y, yOffset + r + 3, sd, accumulate);
    }
}
