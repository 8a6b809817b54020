package org.paligemma4j.tensor;

/**
 * A float buffer per thread that only grows: the kernels' scratch (packed panels and inputs, attention
 * scores, widened rows) and the model's activations, kept between calls. Allocating it per product made a
 * prefill allocate megabytes per layer, which the collector promoted and left as old-generation garbage.
 */
public final class ThreadBuffer {
    private final ThreadLocal<float[]> buffers = ThreadLocal.withInitial(() -> new float[0]);

    /** The calling thread's buffer, at least {@code size} floats long; its contents are left over from earlier use. */
    public float[] atLeast(int size) {
        float[] buffer = buffers.get();
        if (buffer.length < size) {
            buffer = new float[size];
            buffers.set(buffer);
        }
        return buffer;
    }
}
