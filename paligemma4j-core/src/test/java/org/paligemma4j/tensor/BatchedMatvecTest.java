package org.paligemma4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Batched decode products give every token bit for bit what a lone decode step gives it, in every weight format,
 * for batch sizes around the kernels' token groups and columns with ragged vector and block tails. This is what
 * makes a request's output independent of the requests batched with it.
 */
class BatchedMatvecTest {

    @ParameterizedTest(name = "{0} {1}x{2} x {3} tokens")
    @CsvSource({"F32, 37, 48, 2", "F32, 64, 200, 5", "BF16, 33, 2048, 4", "BF16, 70, 100, 8", "BF16, 19, 47, 3", "F16, 40, 96, 6",
            "Q8, 37, 48, 2", "Q8, 64, 4304, 4", "Q8, 70, 104, 7", "Q8, 21, 1000, 9",
            "Q4, 33, 72, 2", "Q4, 64, 4304, 4", "Q4, 40, 100, 5", "Q4, 96, 300, 16",
            // long rows, taken a column chunk at a time, with ragged ends
            "F32, 5, 3000, 5", "BF16, 9, 4500, 4", "BF16, 11, 16384, 8", "F16, 3, 2100, 4", "Q8, 7, 4160, 4", "Q8, 5, 5000, 9",
            "Q4, 6, 5000, 8", "Q4, 4, 16384, 4",
            // two or three left over after the groups of four (pairs of tokens, then one), over several touched blocks
            "BF16, 65, 4100, 7", "BF16, 41, 2050, 2", "F16, 9, 33, 3", "F32, 35, 1030, 6", "Q8, 33, 2048, 6", "Q4, 35, 2048, 3"})
    void everyTokenOfABatchEqualsALoneDecodeStep(String format, int rows, int cols, int tokens) {
        FloatMatrix w = switch (format) {
            case "Q8" -> Q8Matrix.quantize(KernelOracleTest.matrix(StoredType.F32, rows, cols, rows * 31L + cols));
            case "Q4" -> Q4Matrix.quantize(KernelOracleTest.matrix(StoredType.F32, rows, cols, rows * 31L + cols));
            default -> KernelOracleTest.matrix(StoredType.valueOf(format), rows, cols, rows * 31L + cols);
        };
        float[] x = KernelOracleTest.vector(tokens * cols, tokens);
        float[] bias = KernelOracleTest.vector(rows, 5);
        for (Epilogue epilogue : new Epilogue[] {Epilogue.STORE, Epilogue.ADD}) {
            float[] batched = KernelOracleTest.vector(tokens * rows, 3), alone = batched.clone();
            FloatMatrix.matvecAll(x, tokens, new Product(w, batched, bias, epilogue));
            for (int t = 0; t < tokens; t++) {
                float[] one = java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
                float[] out = java.util.Arrays.copyOfRange(alone, t * rows, (t + 1) * rows);
                FloatMatrix.matmulAll(one, 1, new Product(w, out, bias, epilogue));
                System.arraycopy(out, 0, alone, t * rows, rows);
            }
            for (int i = 0; i < alone.length; i++) {
                assertEquals(Float.floatToRawIntBits(alone[i]), Float.floatToRawIntBits(batched[i]),
                        epilogue + " token " + i / rows + " row " + i % rows + ": " + alone[i] + " vs " + batched[i]);
            }
        }
    }

    /** Wide rows go four at a time through one loop; each row's sum must be the one-row loop's, bit for bit. */
    @ParameterizedTest(name = "{0} {1}x{2}")
    @CsvSource({"BF16, 9, 4500", "F32, 6, 4096", "F16, 13, 5003", "BF16, 8, 16384"})
    void wideRowsTakenFourAtATimeSumAsOneRowAlone(String format, int rows, int cols) {
        FloatMatrix w = KernelOracleTest.matrix(StoredType.valueOf(format), rows, cols, rows * 17L + cols);
        float[] x = KernelOracleTest.vector(cols, 9);
        float[] together = new float[rows], oneByOne = new float[rows];
        w.matvecRows(x, 0, together, 0, 0, rows, false);
        for (int r = 0; r < rows; r++) w.matvecRows(x, 0, oneByOne, 0, r, r + 1, false);
        for (int r = 0; r < rows; r++) {
            assertEquals(Float.floatToRawIntBits(oneByOne[r]), Float.floatToRawIntBits(together[r]), "row " + r);
        }
    }
}
