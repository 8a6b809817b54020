package org.paligemma4j.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.paligemma4j.tensor.Attention;
import org.paligemma4j.tensor.AttentionMask;
import org.paligemma4j.tensor.BF16Matrix;
import org.paligemma4j.tensor.Epilogue;
import org.paligemma4j.tensor.F16Matrix;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.HalfFloats;
import org.paligemma4j.tensor.MappedMatrix;
import org.paligemma4j.tensor.Ops;
import org.paligemma4j.tensor.Product;
import org.paligemma4j.tensor.Q4Matrix;
import org.paligemma4j.tensor.Q8Matrix;
import org.paligemma4j.tensor.StoredType;
import org.paligemma4j.tensor.WeightFormat;

/**
 * Runs the model's kernels on tiny inputs, so that the JIT has compiled them before the first real pass, which
 * otherwise runs its first SigLIP layer in the interpreter and C1, where every Vector API operation allocates:
 * on a synthetic paligemma-3b (AMD EPYC, 2 cores) the first layer took 1.5 s instead of 0.04 s and the patch
 * embedding 0.53 s instead of 0.03 s, and the first image 3.3–4.1 s against 0.9–1.1 s warm. After this warm-up
 * (1.7–1.9 s) the first image took 1.7–1.9 s: the compilation moves to before the request, it does not go away.
 * The tiny matrices are of the same classes as the model's own, so the profiles the JIT compiles from see the
 * same types at every call site (a warm-up on other classes would make those sites polymorphic).
 * The results are thrown away; nothing of the model is touched.
 */
final class KernelWarmUp {
    /** Rounds of the kernels: enough calls and loop iterations for every hot method to reach the optimizing JIT. */
    static final int ROUNDS = Integer.getInteger("paligemma.warmUpRounds", 100);

    private KernelWarmUp() {}

    /** Warms the kernels a model with these weight matrices runs; head size and grouping as the model's. */
    static void run(List<FloatMatrix> modelMatrices, int visionHeadDim, int textHeadDim) {
        if (ROUNDS <= 0) return;
        Map<Class<?>, FloatMatrix> samples = new LinkedHashMap<>();
        try (Arena arena = Arena.ofShared()) {
            // computeIfAbsent keeps no entry where sampleLike returns null (a class it does not know).
            for (FloatMatrix w : modelMatrices) samples.computeIfAbsent(w.getClass(), k -> sampleLike(w, arena));
            int cols = 128, rows = 96, tokens = 24;
            SplittableRandom random = new SplittableRandom(7);
            float[] x = new float[tokens * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
            float[] y = new float[tokens * rows], bias = new float[rows];
            float[] weight = new float[cols], shift = new float[cols];
            java.util.Arrays.fill(weight, 1f);
            for (int round = 0; round < ROUNDS; round++) {
                for (FloatMatrix w : samples.values()) {
                    FloatMatrix.matmulAll(x, tokens, new Product(w, y, bias, Epilogue.STORE));
                    FloatMatrix.matmulAll(x, tokens, new Product(w, y, bias, Epilogue.GELU_TANH));
                    FloatMatrix.matmulAll(x, tokens, new Product(w, y, null, Epilogue.ADD));
                    for (int i = 0; i < 4; i++) FloatMatrix.matmulAll(x, 1, new Product(w, y, null, Epilogue.STORE));
                    if (round % 8 == 0) w.matmulInDouble(x, 4, y, bias);
                }
                Ops.layerNorm(x, x.clone(), tokens, cols, weight, shift, 1e-6f);
                Ops.rmsNorm(x, x.clone(), tokens, cols, weight, 1e-6f);
                attention(visionHeadDim, random);
                attention(textHeadDim, random);
            }
        }
    }

    /** Self-attention of 64 tokens (the GEMM path) and one decode query over them, two heads of the model's size. */
    private static void attention(int headDim, SplittableRandom random) {
        int tokens = 64, heads = 2, width = heads * headDim;
        float[] q = new float[tokens * width], k = new float[tokens * width], v = new float[tokens * width];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) random.nextGaussian();
            k[i] = (float) random.nextGaussian();
            v[i] = (float) random.nextGaussian();
        }
        float[] out = new float[q.length];
        float scale = (float) Math.pow(headDim, -0.5);
        Attention.attend(q, tokens, 0, k, v, heads, heads, headDim, scale, 0f, AttentionMask.full(tokens), out);
        Attention.attend(q, tokens - 8, 0, k, v, heads, 1, headDim, scale, 0f, PrefixLmMask.global(tokens - 16), out);
        Attention.attend(q, 1, tokens - 1, k, v, heads, 1, headDim, scale, 0f, PrefixLmMask.global(tokens - 16), out);
    }

    /** A small matrix of w's class (its dtype, or its quantized format), or null for a class this does not know. */
    private static FloatMatrix sampleLike(FloatMatrix w, Arena arena) {
        int rows = 96, cols = 128;
        WeightFormat format = w instanceof Q8Matrix ? WeightFormat.Q8 : w instanceof Q4Matrix ? WeightFormat.Q4 : WeightFormat.AS_STORED;
        if (format == WeightFormat.AS_STORED && !(w instanceof MappedMatrix)) return null;
        // Quantized formats are made from a float32 source, as at load.
        StoredType dtype = w instanceof BF16Matrix ? StoredType.BF16 : w instanceof F16Matrix ? StoredType.F16 : StoredType.F32;
        MemorySegment data = arena.allocate((long) rows * cols * dtype.bytes(), 64);
        SplittableRandom random = new SplittableRandom(rows);
        for (int i = 0; i < rows * cols; i++) {
            float value = (float) (random.nextDouble() - 0.5) / 10;
            switch (dtype) {
                case BF16 -> data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, HalfFloats.floatToBf16(value));
                case F16 -> data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, HalfFloats.floatToF16(value));
                default -> data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, value);
            }
        }
        return FloatMatrix.mapped("warm-up", rows, cols, dtype, data).inFormat(format);
    }
}
