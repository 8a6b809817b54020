package org.paligemma4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.HalfFloats;
import org.paligemma4j.tensor.ScalarKernels;
import org.paligemma4j.tensor.StoredType;
import org.paligemma4j.tensor.WeightFormat;

/**
 * The matrix kernels on Gemma 2B's MLP up-projection (16384 × 2048, larger than the L3 cache): one token
 * (decode: streams the weights, bandwidth-bound) and 270 tokens (prefill: packed GEMM, compute-bound), per
 * weight format, with the scalar twin as the baseline. Divide 2·16384·2048·tokens by the time for FLOP/s,
 * or the weight bytes (67 MB bf16, 38 MB q8, 21 MB q4) by the one-token time for GB/s. Weights live in
 * native memory, as a mapped checkpoint does.
 *
 * <p>Run after {@code mvn package}: {@code java -cp 'paligemma4j-bench/target/paligemma4j-bench.jar:paligemma4j-bench/target/lib/*'
 * org.openjdk.jmh.Main MatmulBenchmark -jvmArgsAppend "--add-modules jdk.incubator.vector -Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"}
 * (a command-line {@code -jvmArgsAppend} replaces the annotation's, so it must name the module again).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MatmulBenchmark {
    @Param({"bf16", "f32", "q8", "q4"})
    String format;

    @Param({"1", "270"})
    int tokens;

    @Param({"16384"})
    int rows;

    @Param({"2048"})
    int cols;

    FloatMatrix matrix;
    float[] x;
    float[] y;

    @Setup
    public void setup() {
        SplittableRandom random = new SplittableRandom(1);
        boolean f32 = format.equals("f32");
        StoredType dtype = f32 ? StoredType.F32 : StoredType.BF16;
        int size = rows * cols;
        ByteBuffer b = ByteBuffer.allocate(size * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < size; i++) {
            float v = (float) (random.nextDouble() - 0.5) / 20;
            if (f32) b.putFloat(v);
            else b.putShort(HalfFloats.floatToBf16(v));
        }
        MemorySegment weights = Arena.ofAuto().allocate(b.capacity(), 64);
        weights.copyFrom(MemorySegment.ofArray(b.array()));
        WeightFormat wf = switch (format) {
            case "q8" -> WeightFormat.Q8;
            case "q4" -> WeightFormat.Q4;
            default -> WeightFormat.AS_STORED;
        };
        matrix = FloatMatrix.mapped("w", rows, cols, dtype, weights).inFormat(wf);
        x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble();
        y = new float[tokens * rows];
    }

    @Benchmark
    public float[] vector() {
        matrix.matmul(x, tokens, y);
        return y;
    }

    /** The scalar twin: only at one token (at 270 tokens it runs for minutes). */
    @Benchmark
    public float[] scalarTwin() {
        if (tokens == 1) ScalarKernels.matmul(matrix, x, tokens, y);
        return y;
    }
}
