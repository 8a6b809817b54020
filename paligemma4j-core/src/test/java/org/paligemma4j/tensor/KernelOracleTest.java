package org.paligemma4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.paligemma4j.model.PrefixLmMask;
import org.paligemma4j.model.SlidingWindowSemantics;

/**
 * Every vector kernel against its scalar twin, over shapes that hit every path: single tokens (decode),
 * token counts around the 6-token tile and the packing threshold, ragged column tails, partial row panels.
 */
class KernelOracleTest {

    static FloatMatrix matrix(StoredType dtype, int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer b = ByteBuffer.allocate(rows * cols * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * cols; i++) {
            float v = (float) (random.nextDouble() * 2 - 1);
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case BF16 -> b.putShort(HalfFloats.floatToBf16(v));
                default -> b.putShort(HalfFloats.floatToF16(v));
            }
        }
        return FloatMatrix.mapped("w", rows, cols, dtype, MemorySegment.ofArray(b.array()));
    }

    static float[] vector(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (random.nextDouble() * 2 - 1);
        return v;
    }

    @ParameterizedTest(name = "{0} {1}x{2} x {3} tokens")
    @CsvSource({"F32, 37, 48, 1", "BF16, 64, 1152, 1", "F16, 33, 72, 3", "BF16, 70, 104, 6", "F32, 96, 300, 8",
            "BF16, 64, 272, 13", "BF16, 31, 40, 20", "F32, 128, 600, 27", "BF16, 64, 300, 10", "F32, 32, 64, 11",
            "BF16, 40, 4700, 9", "F32, 33, 40, 1100", "BF16, 40, 4304, 300"})
    void matmulMatchesScalarTwin(StoredType dtype, int rows, int cols, int tokens) {
        matchesScalarTwin(dtype, rows, cols, tokens, false);
    }

    /** The bias goes on after the full sum, whichever kernel runs (GEMM adds it per panel, streaming after the loop). */
    /**
     * The double-precision product (SigLIP's patch embedding) against sums in double taken here: blocks of rows,
     * pairs of rows and groups of four tokens, with every ragged end, land on the same float (or its neighbour,
     * where two double sums in different orders round to either side of a float halfway point).
     */
    @ParameterizedTest(name = "{0} {1}x{2} x {3} tokens, in double")
    @CsvSource({"F32, 37, 45, 7", "BF16, 9, 588, 13", "F32, 16, 32, 4", "F16, 17, 100, 1", "F32, 1, 588, 9"})
    void productInDoubleMatchesDoubleSums(StoredType dtype, int rows, int cols, int tokens) {
        FloatMatrix w = matrix(dtype, rows, cols, rows * 13L + cols);
        float[] x = vector(tokens * cols, 17), bias = vector(rows, 19), y = new float[tokens * rows];
        w.matmulInDouble(x, tokens, y, bias);
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double sum = 0;
                for (int c = 0; c < cols; c++) sum += (double) w.get(r, c) * x[t * cols + c];
                float expected = (float) (sum + bias[r]), actual = y[t * rows + r];
                assertTrue(Math.abs(expected - actual) <= Math.ulp(expected), dtype + " [" + t + ", " + r + "]: " + actual
                        + " against " + expected);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2} x {3} tokens, with bias")
    @CsvSource({"BF16, 70, 104, 3", "F32, 33, 2500, 9", "BF16, 96, 300, 530"})
    void matmulWithBiasMatchesScalarTwinPlusBias(StoredType dtype, int rows, int cols, int tokens) {
        matchesScalarTwin(dtype, rows, cols, tokens, true);
    }

    private static void matchesScalarTwin(StoredType dtype, int rows, int cols, int tokens, boolean withBias) {
        FloatMatrix w = matrix(dtype, rows, cols, rows * 31L + cols);
        float[] x = vector(tokens * cols, 5), fast = new float[tokens * rows], slow = new float[tokens * rows];
        float[] bias = withBias ? vector(rows, 11) : null;
        w.matmul(x, tokens, fast, bias);
        ScalarKernels.matmul(w, x, tokens, slow);
        if (withBias) {
            for (int i = 0; i < slow.length; i++) slow[i] += bias[i % rows];
        }
        for (int i = 0; i < fast.length; i++) {
            assertEquals(slow[i], fast[i], 1e-5 * Math.sqrt(cols), "output " + i);
        }
    }

    /** The norms' vector double-precision sums against sequential ones, over lengths that leave every tail. */
    @ParameterizedTest(name = "{0} values")
    @CsvSource({"0", "1", "15", "16", "17", "100", "1152", "2311"})
    void normSumsMatchSequentialDoubleSums(int n) {
        float[] x = vector(n + 5, n);
        double sum = 0, squares = 0, deviations = 0;
        for (int i = 0; i < n; i++) sum += x[5 + i];
        float mean = (float) (n == 0 ? 0 : sum / n);
        for (int i = 0; i < n; i++) {
            squares += (double) x[5 + i] * x[5 + i];
            deviations += (x[5 + i] - (double) mean) * (x[5 + i] - (double) mean);
        }
        assertEquals(sum, Ops.sum(x, 5, n), 1e-12 * Math.max(1, n));
        assertEquals(squares, Ops.sumOfSquares(x, 5, n, 0f), 1e-12 * Math.max(1, n));
        assertEquals(deviations, Ops.sumOfSquares(x, 5, n, mean), 1e-12 * Math.max(1, n));
    }

    /**
     * Products sharing their inputs, each with its own row count, bias and epilogue, against the scalar
     * twin followed by the epilogue written out: stored, added onto a residual, through GELU.
     */
    @ParameterizedTest(name = "{0} x {1} columns, {2} tokens")
    @CsvSource({"BF16, 72, 1", "F32, 300, 3", "BF16, 1152, 9", "F32, 40, 64", "BF16, 4400, 13"})
    void productsSharingInputsMatchTheScalarTwinWithTheirEpilogues(StoredType dtype, int cols, int tokens) {
        int[] rows = {40, 33, 96};
        Epilogue[] epilogues = {Epilogue.STORE, Epilogue.ADD, Epilogue.GELU_TANH};
        float[] x = vector(tokens * cols, 3);
        Product[] products = new Product[rows.length];
        float[][] expected = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            FloatMatrix w = matrix(dtype, rows[i], cols, 17L * i + cols);
            float[] bias = i == 0 ? null : vector(rows[i], 23 + i);
            float[] out = vector(tokens * rows[i], 41 + i); // what an ADD product sums onto; the others overwrite it
            expected[i] = new float[tokens * rows[i]];
            ScalarKernels.matmul(w, x, tokens, expected[i]);
            for (int j = 0; j < expected[i].length; j++) {
                float s = expected[i][j] + (bias == null ? 0f : bias[j % rows[i]]);
                expected[i][j] = switch (epilogues[i]) {
                    case STORE -> s;
                    case ADD -> out[j] + s;
                    case GELU_TANH -> Ops.geluTanh(s);
                };
            }
            products[i] = new Product(w, out, bias, epilogues[i]);
        }
        FloatMatrix.matmulAll(x, tokens, products);
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                assertEquals(expected[i][j], products[i].out()[j], 1e-5 * Math.sqrt(cols), epilogues[i] + " output " + j);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2} x {3} tokens")
    @CsvSource({"Q8, 37, 48, 1", "Q8, 64, 4304, 1", "Q4, 33, 72, 1", "Q4, 64, 4304, 1", "Q8, 70, 104, 9", "Q4, 96, 300, 14", "Q4, 40, 100, 3", "Q4, 40, 100, 5"})
    void quantizedMatricesMatchTheirOwnScalarReadAndStayCloseToTheSource(WeightFormat format, int rows, int cols, int tokens) {
        FloatMatrix source = matrix(StoredType.F32, rows, cols, rows + 7L * cols);
        FloatMatrix q = format == WeightFormat.Q8 ? Q8Matrix.quantize(source) : Q4Matrix.quantize(source);
        // Each weight within half its block's quantization step of the original: the step is max |w| / 127 for q8
        // and max |w| / 8 for q4, whose largest weight goes to −8; a q4 weight of the opposite sign beyond 7.5
        // steps clamps to +7 and is within one step.
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int b0 = c / 32 * 32;
                double blockMax = 0;
                for (int k = b0; k < Math.min(cols, b0 + 32); k++) blockMax = Math.max(blockMax, Math.abs(source.get(r, k)));
                double step = blockMax / (format == WeightFormat.Q8 ? 127.0 : 8.0);
                double error = Math.abs(q.get(r, c) - source.get(r, c));
                boolean clamped = format == WeightFormat.Q4 && Math.abs(source.get(r, c)) > 7.5 * step;
                assertTrue(error <= (clamped ? step : step / 2) + 1e-6, "weight " + r + "," + c + ": error " + error + ", step " + step);
            }
        }
        float[] x = vector(tokens * cols, 9), fast = new float[tokens * rows], slow = new float[tokens * rows];
        q.matmul(x, tokens, fast);
        ScalarKernels.matmul(q, x, tokens, slow);
        for (int i = 0; i < fast.length; i++) assertEquals(slow[i], fast[i], 1e-4 * Math.sqrt(cols), "output " + i);
        float[] row = new float[cols];
        q.row(rows / 2, row, 0);
        for (int c = 0; c < cols; c++) assertEquals(q.get(rows / 2, c), row[c], 1e-6f);
    }

    @ParameterizedTest(name = "{0} queries at {1}, heads {2}/{3}, dim {4}, window {5}")
    @CsvSource({"1, 30, 8, 1, 256, 0", "20, 0, 4, 4, 72, 0", "40, 0, 4, 2, 24, 29", "3, 45, 4, 2, 24, 29", "17, 0, 16, 16, 16, 0",
            "100, 0, 16, 16, 72, 0", "80, 0, 4, 2, 24, 29", "70, 10, 8, 1, 64, 0",
            // long prompts (896 px): many strips of queries, and strips whose window skips most keys
            "4100, 0, 2, 1, 72, 0", "4100, 0, 2, 1, 64, 1024", "600, 3000, 2, 2, 32, 700",
            // decode at 4,100 positions: eight heads on one kv head (PaliGemma 1), two per kv head in a window (Gemma 2)
            "1, 4099, 8, 1, 256, 0", "2, 4098, 8, 4, 256, 1024", "3, 130, 8, 2, 256, 0"})
    void attentionMatchesScalarTwin(int queries, int first, int heads, int kvHeads, int headDim, int window) {
        int positions = first + queries;
        float[] q = vector(queries * heads * headDim, 1), k = vector(positions * kvHeads * headDim, 2);
        float[] v = vector(positions * kvHeads * headDim, 3);
        var mask = window == 0 ? PrefixLmMask.global(Math.max(1, first + queries / 2))
                : new PrefixLmMask(Math.max(1, first + queries / 2), window, SlidingWindowSemantics.TRANSFORMERS);
        float[] fast = new float[q.length], slow = new float[q.length];
        float cap = window == 0 ? 0f : 10f;
        Attention.attend(q, queries, first, k, v, heads, kvHeads, headDim, 0.2f, cap, mask, fast);
        ScalarKernels.attend(q, queries, first, k, v, heads, kvHeads, headDim, 0.2f, cap, mask, slow);
        for (int i = 0; i < fast.length; i++) assertEquals(slow[i], fast[i], 2e-5, "output " + i);
    }

    @ParameterizedTest(name = "shared prompt of {0}, {1} own positions, heads {2}/{3}")
    @CsvSource({"70, 30, 8, 1", "64, 200, 8, 4", "3, 5, 2, 1", "300, 1, 4, 2"})
    void oneQueryOverASharedPromptIsBitIdenticalToOneCache(int sharedRows, int ownRows, int heads, int kvHeads) {
        int headDim = 256, kvStride = kvHeads * headDim, positions = sharedRows + ownRows;
        float[] k = vector(positions * kvStride, 4), v = vector(positions * kvStride, 5), q = vector(heads * headDim, 6);
        float[] sharedK = java.util.Arrays.copyOf(k, sharedRows * kvStride), sharedV = java.util.Arrays.copyOf(v, sharedRows * kvStride);
        float[] ownK = java.util.Arrays.copyOfRange(k, sharedRows * kvStride, k.length);
        float[] ownV = java.util.Arrays.copyOfRange(v, sharedRows * kvStride, v.length);
        var mask = PrefixLmMask.global(sharedRows);
        float[] whole = new float[q.length], split = new float[q.length];
        Attention.attend(q, 1, positions - 1, k, v, heads, kvHeads, headDim, 0.1f, 0f, mask, whole);
        Attention.attendOneSplit(q, positions - 1, sharedK, sharedV, sharedRows, ownK, ownV, heads, kvHeads, headDim, 0.1f, 0f, mask, split);
        org.junit.jupiter.api.Assertions.assertArrayEquals(whole, split, 0f);
    }

    @org.junit.jupiter.api.Test
    void aMappedMatrixNeedsExactlyItsShapesBytesAndViewsThemInPlace() {
        MemorySegment data = MemorySegment.ofArray(new byte[3 * 4 * 2]);
        data.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 5, HalfFloats.floatToBf16(1.5f));
        FloatMatrix m = FloatMatrix.mapped("w", 3, 4, StoredType.BF16, data);
        assertEquals(1.5f, m.get(1, 1));
        assertTrue(m.inFormat(WeightFormat.AS_STORED) == m, "as stored is the matrix itself");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FloatMatrix.mapped("w", 3, 4, StoredType.F32, data));
        assertTrue(e.getMessage().contains("w") && e.getMessage().contains("48") && e.getMessage().contains("24"), e.getMessage());
    }
}
