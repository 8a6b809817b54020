package org.paligemma4j.model;

import java.util.Locale;
import org.paligemma4j.io.Checkpoint;
import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.tensor.WeightFormat;

/**
 * What opening a model puts on the Java heap, checked before it is done. Weights used as stored stay in the
 * mapped file, off the heap; quantized weights (quantized while loading, or read from a copy saved quantized)
 * live in heap arrays. A 10B model in int8 needs about 11 GB of them, more than a JVM's default maximum
 * heap (a quarter of the RAM) on most machines: without this check the load ran for minutes and then died
 * of an {@link OutOfMemoryError} deep inside the quantizer.
 */
final class HeapFootprint {
    /** int8 weights plus one float32 scale per block of 32. */
    private static final double Q8_BYTES_PER_WEIGHT = 1 + 4.0 / 32;
    /** Two int4 weights per byte plus one float32 scale per block of 32. */
    private static final double Q4_BYTES_PER_WEIGHT = 0.5 + 4.0 / 32;
    /** Activations, KV cache and the young generation, besides the weights. */
    private static final long WORKING_ROOM = 512L << 20;

    private HeapFootprint() {}

    /**
     * Bytes of heap the weights of {@code checkpoint} take when opened in {@code format}: matrices quantized
     * at load (each in its {@link QuantizationRecipe} format: q4 keeps some int8), matrices saved
     * quantized copied in as they are, and every vector (norms, biases) and the position table as float32.
     */
    static long ofWeights(Checkpoint checkpoint, WeightFormat format) {
        double bytes = 0;
        for (SafeTensor t : checkpoint.tensors().values()) {
            String name = t.name();
            if (name.endsWith(ModelWeights.Q8) || name.endsWith(ModelWeights.Q4) || name.endsWith(ModelWeights.SCALES)) {
                bytes += t.data().byteSize();
            } else if (name.contains("position_embedding")) {
                bytes += t.elementCount() * 4.0; // a table read by position, kept as float32 in every format
            } else if (t.rank() >= 2) {
                bytes += switch (QuantizationRecipe.ofTensor(name, format)) {
                    case AS_STORED -> 0;
                    case Q8 -> t.elementCount() * Q8_BYTES_PER_WEIGHT;
                    case Q4 -> t.elementCount() * Q4_BYTES_PER_WEIGHT;
                };
            } else {
                bytes += t.elementCount() * 4.0;
            }
        }
        return (long) bytes;
    }

    /**
     * Fails with a message that says what to do when {@code weightBytes} of weights (see {@link #ofWeights})
     * cannot fit in what is left of this JVM's maximum heap.
     */
    static void requireRoom(long weightBytes, String what) {
        Runtime runtime = Runtime.getRuntime();
        long used = runtime.totalMemory() - runtime.freeMemory();
        long max = runtime.maxMemory();
        check(weightBytes, used, max, what);
    }

    static void check(long weightBytes, long usedBytes, long maxHeapBytes, String what) {
        if (maxHeapBytes == Long.MAX_VALUE || usedBytes + weightBytes + WORKING_ROOM <= maxHeapBytes) return;
        long suggestedGb = (usedBytes + weightBytes + WORKING_ROOM + (1L << 30) - 1 >> 30) + 1;
        throw new IllegalStateException(String.format(Locale.ROOT,
                "%s keeps %.1f GB of weights on the Java heap, but this JVM's maximum heap is %.1f GB (%.1f GB in use):"
                        + " give it more (-Xmx%dg; for the paligemma command, PALIGEMMA_JAVA_OPTS=-Xmx%dg), use a smaller"
                        + " format (q4), or open the weights as stored (mapped from the file, off the heap)",
                what, weightBytes / 1e9, maxHeapBytes / 1e9, usedBytes / 1e9, suggestedGb, suggestedGb));
    }
}
