package org.paligemma4j.model;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.paligemma4j.tensor.Ops;

/**
 * Where a backward pass adds the parameters' gradients: into each parameter's own gradient
 * ({@link #OWN}), or into a private buffer per parameter, so that passes over several examples can run
 * at once and their gradients be added to the parameters' afterwards in a fixed order.
 */
final class Gradients {
    /** Each parameter's own gradient, {@link Param#grad}. */
    static final Gradients OWN = new Gradients(null);

    private final Map<Param, float[]> buffers; // null for OWN

    private Gradients(Map<Param, float[]> buffers) {
        this.buffers = buffers;
    }

    /** A zeroed buffer for each trainable parameter of {@code params}. */
    static Gradients buffersFor(List<Param> params) {
        Map<Param, float[]> buffers = new IdentityHashMap<>();
        for (Param p : params) if (p.trainable()) buffers.put(p, new float[p.grad().length]);
        return new Gradients(buffers);
    }

    /** Floats a set of buffers for {@code params} holds. */
    static long floats(List<Param> params) {
        long n = 0;
        for (Param p : params) if (p.trainable()) n += p.grad().length;
        return n;
    }

    /** Where {@code p}'s gradient accumulates; null when p is frozen. */
    float[] of(Param p) {
        return buffers == null ? p.grad() : buffers.get(p);
    }

    /** Adds every buffer into its parameter's own gradient and zeroes the buffer. */
    void addToOwnAndClear() {
        for (Map.Entry<Param, float[]> e : buffers.entrySet()) {
            float[] buffer = e.getValue();
            Ops.add(e.getKey().grad(), buffer, buffer.length);
            Arrays.fill(buffer, 0f);
        }
    }
}
