package org.paligemma4j.bench;

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
import org.paligemma4j.model.PrefixLmMask;
import org.paligemma4j.tensor.Attention;
import org.paligemma4j.tensor.ScalarKernels;

/**
 * Attention as the model runs it: SigLIP (256 queries, 16 heads of 72), Gemma prefill (270 queries,
 * 8 heads sharing one 256-wide KV head) and one Gemma decode step over 300 cached positions; the scalar
 * twin is the baseline.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class AttentionBenchmark {
    /** queries, first position, heads, kv heads, head dim */
    @Param({"256,0,16,16,72", "270,0,8,1,256", "1,300,8,1,256"})
    String shape;

    int queries, first, heads, kvHeads, headDim;
    float[] q, k, v, out;
    PrefixLmMask mask;

    @Setup
    public void setup() {
        String[] p = shape.split(",");
        queries = Integer.parseInt(p[0]);
        first = Integer.parseInt(p[1]);
        heads = Integer.parseInt(p[2]);
        kvHeads = Integer.parseInt(p[3]);
        headDim = Integer.parseInt(p[4]);
        SplittableRandom r = new SplittableRandom(3);
        q = new float[queries * heads * headDim];
        k = new float[(first + queries) * kvHeads * headDim];
        v = new float[k.length];
        for (float[] a : new float[][] {q, k, v}) for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        out = new float[q.length];
        mask = PrefixLmMask.global(first == 0 ? queries : first);
    }

    @Benchmark
    public float[] vector() {
        Attention.attend(q, queries, first, k, v, heads, kvHeads, headDim, 0.1f, 0f, mask, out);
        return out;
    }

    @Benchmark
    public float[] scalarTwin() {
        ScalarKernels.attend(q, queries, first, k, v, heads, kvHeads, headDim, 0.1f, 0f, mask, out);
        return out;
    }
}
