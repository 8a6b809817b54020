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
import org.paligemma4j.tensor.HalfFloats;

/**
 * The attention of one decode step at a long context, every layer, over a KV cache in float32 or bfloat16:
 * PaliGemma 2 3B at 896 px (26 layers, 8 query heads on 4 key/value heads of 256, 4,100 cached positions, 0.87 GB
 * of float32 keys and values) streams its cache from memory once per step, as in the model. The figure to read is
 * the time per step and the bytes per second it implies.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class DecodeAttentionBenchmark {
    /** layers, positions, heads, kv heads, head dim */
    @Param({"26,4100,8,4,256"})
    String shape;

    @Param({"f32", "bf16"})
    String cache;

    int layers, positions, heads, kvHeads, headDim, layerElements;
    float[] q, out, keys, values;
    short[] keys16, values16;
    PrefixLmMask mask;

    @Setup
    public void setup() {
        String[] p = shape.split(",");
        layers = Integer.parseInt(p[0]);
        positions = Integer.parseInt(p[1]);
        heads = Integer.parseInt(p[2]);
        kvHeads = Integer.parseInt(p[3]);
        headDim = Integer.parseInt(p[4]);
        layerElements = positions * kvHeads * headDim;
        SplittableRandom r = new SplittableRandom(3);
        q = new float[heads * headDim];
        for (int i = 0; i < q.length; i++) q[i] = (float) r.nextGaussian();
        out = new float[q.length];
        float[] k = new float[layers * layerElements], v = new float[k.length];
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) r.nextGaussian();
            v[i] = (float) r.nextGaussian();
        }
        if (cache.equals("bf16")) {
            keys16 = new short[k.length];
            values16 = new short[k.length];
            HalfFloats.roundToBf16(k, 0, keys16, 0, k.length);
            HalfFloats.roundToBf16(v, 0, values16, 0, v.length);
        } else {
            keys = k;
            values = v;
        }
        mask = PrefixLmMask.global(positions - 100);
    }

    @Benchmark
    public float[] step() {
        for (int l = 0; l < layers; l++) {
            int base = l * layerElements;
            if (keys16 != null) {
                Attention.attend(q, 1, positions - 1, keys16, values16, base, heads, kvHeads, headDim, 0.0625f, 50f, mask, out);
            } else {
                Attention.attend(q, 1, positions - 1, keys, values, base, heads, kvHeads, headDim, 0.0625f, 50f, mask, out);
            }
        }
        return out;
    }
}
