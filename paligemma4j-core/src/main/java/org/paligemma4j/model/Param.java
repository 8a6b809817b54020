package org.paligemma4j.model;

/**
 * One parameter tensor of the model during training: its canonical name (see
 * {@link org.paligemma4j.io.WeightNames}), shape, float32 value and gradient. A frozen parameter has no
 * gradient; a frozen weight matrix keeps no value either (it is read in place through its
 * {@link org.paligemma4j.tensor.FloatMatrix}).
 */
public final class Param {
    private final String name;
    private final long[] shape;
    private final float[] value;
    private final float[] grad;

    Param(String name, long[] shape, float[] value, boolean trainable) {
        this.name = name;
        this.shape = shape.clone();
        this.value = value;
        this.grad = trainable ? new float[value.length] : null;
    }

    public String name() {
        return name;
    }

    public long[] shape() {
        return shape.clone();
    }

    /** The float32 master value (updated in place by an optimizer); null for a frozen mapped matrix. */
    public float[] value() {
        return value;
    }

    /** The accumulated gradient, or null when the parameter is frozen. */
    public float[] grad() {
        return grad;
    }

    public boolean trainable() {
        return grad != null;
    }

    void zeroGrad() {
        if (grad != null) java.util.Arrays.fill(grad, 0f);
    }
}
