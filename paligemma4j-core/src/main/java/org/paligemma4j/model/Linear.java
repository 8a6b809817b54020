package org.paligemma4j.model;

import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.WeightFormat;

/** A linear layer {@code y = W·x (+ b)} over a batch of tokens; the weight stays in mapped memory. */
final class Linear {
    final FloatMatrix weight;
    private final float[] bias;

    Linear(ModelWeights w, String weightName, String biasName, WeightFormat format) {
        this.weight = FloatMatrix.of(w.get(weightName), format);
        this.bias = biasName == null ? null : w.get(biasName).toFloatArray();
    }

    int in() {
        return weight.cols();
    }

    int out() {
        return weight.rows();
    }

    /** x {@code [tokens, in]} → y {@code [tokens, out]}. */
    void apply(float[] x, int tokens, float[] y) {
        weight.matmul(x, tokens, y);
        if (bias != null) FloatMatrix.addBias(y, tokens, bias);
    }
}
