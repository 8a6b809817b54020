package org.paligemma4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.paligemma4j.model.PrefixLmMask;
import org.paligemma4j.model.SlidingWindowSemantics;
import org.junit.jupiter.api.Test;

/**
 * Attention over a bfloat16 KV cache is, bit for bit, attention over the same cache widened to float32: the
 * halved cache changes what is stored, never how it is summed. Shapes cover decode over many chunks, a
 * ragged head dimension, a sliding window, a prompt shared in place, and the many-query paths; every cache
 * sits at an offset of a longer array, as a cache holding all layers in one array keeps them.
 */
class Bf16KvCacheAttentionTest {

    private static short[] rounded(float[] values) {
        short[] h = new short[values.length];
        HalfFloats.roundToBf16(values, 0, h, 0, values.length);
        return h;
    }

    private static float[] widened(short[] h) {
        float[] f = new float[h.length];
        HalfFloats.widenBf16(h, 0, f, 0, h.length);
        return f;
    }

    /** {@code rows} placed at {@code base} of a longer array, as a cache holding several layers keeps them. */
    private static short[] at(int base, short[] rows) {
        short[] a = new short[base + rows.length + 7];
        System.arraycopy(rows, 0, a, base, rows.length);
        return a;
    }

    private static float[] at(int base, float[] rows) {
        float[] a = new float[base + rows.length + 7];
        System.arraycopy(rows, 0, a, base, rows.length);
        return a;
    }

    @ParameterizedTest(name = "{0} queries at {1}, heads {2}/{3}, dim {4}, window {5}")
    @CsvSource({"1, 30, 8, 1, 256, 0", "1, 4099, 8, 1, 256, 0", "2, 4098, 8, 4, 256, 1024", "3, 130, 8, 2, 72, 0",
            "1, 500, 4, 4, 40, 0", "20, 0, 4, 4, 72, 0", "100, 0, 16, 16, 72, 0", "80, 0, 4, 2, 24, 29", "70, 300, 8, 1, 64, 0"})
    void bf16CacheGivesTheFloat32ResultsOfItsWidenedValues(int queries, int first, int heads, int kvHeads, int headDim,
                                                         int window) {
        int positions = first + queries;
        float[] q = KernelOracleTest.vector(queries * heads * headDim, 1);
        short[] k = rounded(KernelOracleTest.vector(positions * kvHeads * headDim, 2));
        short[] v = rounded(KernelOracleTest.vector(positions * kvHeads * headDim, 3));
        var mask = window == 0 ? PrefixLmMask.global(Math.max(1, first + queries / 2))
                : new PrefixLmMask(Math.max(1, first + queries / 2), window, SlidingWindowSemantics.TRANSFORMERS);
        float cap = window == 0 ? 0f : 10f;
        float[] halves = new float[q.length], floats = new float[q.length];
        int base = 3 * kvHeads * headDim + 5;
        Attention.attend(q, queries, first, at(base, k), at(base, v), base, heads, kvHeads, headDim, 0.2f, cap, mask, halves);
        Attention.attend(q, queries, first, widened(k), widened(v), heads, kvHeads, headDim, 0.2f, cap, mask, floats);
        assertArrayEquals(floats, halves, 0f);
        // Float32 rows from a base give what they give from row 0.
        float[] based = new float[q.length];
        Attention.attend(q, queries, first, at(base, widened(k)), at(base, widened(v)), base, heads, kvHeads, headDim, 0.2f, cap, mask,
                based);
        assertArrayEquals(floats, based, 0f);
    }

    @ParameterizedTest(name = "shared prompt of {0}, {1} own positions, heads {2}/{3}, dim {4}")
    @CsvSource({"70, 30, 8, 1, 256", "64, 200, 8, 4, 256", "3, 5, 2, 1, 256", "300, 1, 4, 2, 72", "250, 90, 4, 1, 40"})
    void sharedBf16PromptGivesTheResultsOfOneWidenedCache(int sharedRows, int ownRows, int heads, int kvHeads, int headDim) {
        int kvStride = kvHeads * headDim, positions = sharedRows + ownRows;
        short[] k = rounded(KernelOracleTest.vector(positions * kvStride, 4)), v = rounded(KernelOracleTest.vector(positions * kvStride, 5));
        float[] q = KernelOracleTest.vector(heads * headDim, 6);
        short[] sharedK = Arrays.copyOf(k, sharedRows * kvStride), sharedV = Arrays.copyOf(v, sharedRows * kvStride);
        short[] ownK = Arrays.copyOfRange(k, sharedRows * kvStride, k.length), ownV = Arrays.copyOfRange(v, sharedRows * kvStride, v.length);
        var mask = PrefixLmMask.global(sharedRows);
        float[] whole = new float[q.length], split = new float[q.length];
        Attention.attend(q, 1, positions - 1, widened(k), widened(v), heads, kvHeads, headDim, 0.1f, 0f, mask, whole);
        Attention.attendOneSplit(q, positions - 1, at(11, sharedK), at(11, sharedV), 11, sharedRows, at(kvStride, ownK), at(kvStride, ownV),
                kvStride, heads, kvHeads, headDim, 0.1f, 0f, mask, split);
        assertArrayEquals(whole, split, 0f);
        float[] floatSplit = new float[q.length];
        Attention.attendOneSplit(q, positions - 1, at(11, widened(sharedK)), at(11, widened(sharedV)), 11, sharedRows,
                at(kvStride, widened(ownK)), at(kvStride, widened(ownV)), kvStride, heads, kvHeads, headDim, 0.1f, 0f, mask, floatSplit);
        assertArrayEquals(whole, floatSplit, 0f);
    }

    @Test
    void aCacheTooShortForTheQueryIsRefused() {
        short[] k = new short[10 * 64];
        float[] q = new float[2 * 64], out = new float[q.length];
        assertThrows(IllegalArgumentException.class,
                () -> Attention.attend(q, 1, 10, k, k, 0, 2, 1, 64, 0.1f, 0f, PrefixLmMask.global(5), out));
        // Ten rows fit from row 0, but not from a base one row in.
        Attention.attend(q, 1, 9, k, k, 0, 2, 1, 64, 0.1f, 0f, PrefixLmMask.global(5), out);
        assertThrows(IllegalArgumentException.class,
                () -> Attention.attend(q, 1, 9, k, k, 64, 2, 1, 64, 0.1f, 0f, PrefixLmMask.global(5), out));
    }
}
