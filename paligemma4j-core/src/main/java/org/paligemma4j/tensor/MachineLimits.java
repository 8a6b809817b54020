package org.paligemma4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.DoubleSupplier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * What this machine allows, measured on it with the worker threads, so speed can be judged as a fraction of
 * the limits rather than against figures from another CPU: the memory read bandwidth (every thread streaming
 * its slice of a buffer far larger than the caches), the vector FMA peak (independent FMA chains that never
 * leave the registers), and a weight format's decode compute bound (the matrix-vector kernel on a matrix that
 * stays in each thread's cache, so memory cannot be what limits it). Each figure is the best of a few tries.
 */
public final class MachineLimits {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Larger than any last-level cache of the machines this runs on. */
    private static final long STREAM_BYTES = 1L << 30;

    private MachineLimits() {}

    /** Read bandwidth in GB/s: all threads summing their slices of a 1 GiB off-heap buffer. */
    public static double readBandwidthGbPerSecond() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(STREAM_BYTES, 64);
            buffer.fill((byte) 1);
            int chunks = Parallel.threads() * 16;
            long chunkBytes = STREAM_BYTES / chunks;
            double[] sink = new double[chunks];
            return best(4, () -> {
                long t0 = System.nanoTime();
                Parallel.forEach(chunks, c -> sink[c] = sum(buffer, c * chunkBytes, chunkBytes));
                return STREAM_BYTES / ((System.nanoTime() - t0) / 1e9) / 1e9;
            });
        }
    }

    /** Sums a slice as float vectors: one load and one add per vector, far below the add throughput. */
    private static double sum(MemorySegment buffer, long from, long bytes) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long step = F.vectorByteSize();
        long end = from + bytes - 4 * step;
        long o = from;
        for (; o <= end; o += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, buffer, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, buffer, o + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, buffer, o + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, buffer, o + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        double s = a0.add(a1).add(a2.add(a3)).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; o < from + bytes; o += 4) s += buffer.get(ValueLayout.JAVA_FLOAT_UNALIGNED, o);
        return s;
    }

    /** Vector FMA peak in GFLOPS (2 flops per lane per FMA) over all threads. */
    public static double fmaPeakGflops() {
        int threads = Parallel.threads();
        long iterations = 20_000_000L;
        float[] sink = new float[threads];
        // Short calls first, so that the JIT compiles the method whole with the vector intrinsics. Measured cold, the
        // long loop could run in code compiled on stack replacement without them (the FMAs as Java calls, a profile
        // showed): one bench run reported a peak of 8 GFLOPS where the others saw 409-445.
        for (int i = 0; i < 2_000; i++) sink[0] += fmaChains(2_000);
        return best(3, () -> {
            long t0 = System.nanoTime();
            Parallel.forEach(threads, t -> sink[t] = fmaChains(iterations));
            double seconds = (System.nanoTime() - t0) / 1e9;
            return 2.0 * F.length() * FMA_CHAINS * iterations * threads / seconds / 1e9;
        });
    }

    /** Independent FMA chains: enough of them to cover the FMA latency on two FMA ports. */
    private static final int FMA_CHAINS = 12;

    private static float fmaChains(long iterations) {
        FloatVector m = FloatVector.broadcast(F, 0.999999f), c = FloatVector.broadcast(F, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(F, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).lane(0);
    }

    /**
     * The decode kernel's own speed for the weight format of {@code like} (a model's matrix), in GB/s of weights:
     * every thread runs the matrix-vector kernel over and over on its own random matrix of that format, with
     * {@code like}'s columns and about 512 KB of weights, which stays in that core's cache, so what limits it is
     * the instructions per weight, not memory (and no hand-off between threads is timed).
     */
    public static double decodeComputeGbPerSecond(FloatMatrix like) {
        int cols = like.cols();
        int rows = (int) Math.max(8, Math.min(like.rows(), (512L << 10) / Math.max(1, (long) (cols * like.bytesPerElement()))));
        int threads = Parallel.threads();
        FloatMatrix[] own = new FloatMatrix[threads];
        for (int t = 0; t < threads; t++) own[t] = cacheResident(like, rows, cols, t);
        int repeats = (int) Math.max(20, (1L << 30) / Math.max(1, own[0].storageBytes()));
        float[] sink = new float[threads];
        return best(3, () -> {
            long t0 = System.nanoTime();
            Parallel.forEach(threads, t -> sink[t] = repeatKernel(own[t], repeats));
            return own[0].storageBytes() * (double) repeats * threads / ((System.nanoTime() - t0) / 1e9) / 1e9;
        });
    }

    /** The decode kernel (as the worker threads run it) over all rows, {@code repeats} times, on this thread. */
    private static float repeatKernel(FloatMatrix m, int repeats) {
        float[] x = new float[m.cols()], y = new float[m.rows()];
        for (int i = 0; i < x.length; i++) x[i] = (i % 7) * 0.01f;
        Parallel.RangeBody kernel = m.matvecTask(m.matvecInputs(x, 1).clone(), y, false);
        for (int r = 0; r < repeats; r++) kernel.run(0, m.rows());
        return y[0];
    }

    /** A random matrix of {@code like}'s format and the given size. */
    private static FloatMatrix cacheResident(FloatMatrix like, int rows, int cols, long seed) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        MemorySegment f32 = MemorySegment.ofArray(new float[rows * cols]);
        for (long i = 0; i < (long) rows * cols; i++) f32.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextDouble() * 2 - 1));
        FloatMatrix source = new F32Matrix("cache-resident", rows, cols, Arena.ofAuto().allocate(4L * rows * cols, 64).copyFrom(f32));
        return switch (like) {
            case Q8Matrix q -> Q8Matrix.quantize(source);
            case Q4Matrix q -> Q4Matrix.quantize(source);
            case BF16Matrix b -> new BF16Matrix("cache-resident", rows, cols, halves(f32, rows * cols, true));
            case F16Matrix h -> new F16Matrix("cache-resident", rows, cols, halves(f32, rows * cols, false));
            default -> source;
        };
    }

    /**
     * The values as bf16 or f16 in native memory, as a mapped checkpoint holds them (the kernels read heap segments
     * through a slower path, which would understate the bound).
     */
    private static MemorySegment halves(MemorySegment f32, int n, boolean bf16) {
        MemorySegment out = Arena.ofAuto().allocate(2L * n, 64);
        for (int i = 0; i < n; i++) {
            float v = f32.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            out.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, bf16 ? HalfFloats.floatToBf16(v) : HalfFloats.floatToF16(v));
        }
        return out;
    }

    private static double best(int tries, DoubleSupplier measure) {
        double best = 0;
        for (int i = 0; i < tries; i++) best = Math.max(best, measure.getAsDouble());
        return best;
    }
}
