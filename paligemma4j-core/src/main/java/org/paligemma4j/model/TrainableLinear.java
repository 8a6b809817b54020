package org.paligemma4j.model;

import java.util.random.RandomGenerator;
import org.paligemma4j.tensor.Backward;
import org.paligemma4j.tensor.FloatMatrix;

/**
 * A linear layer {@code y = W·x + b} for training, with its backward pass beside its forward, and
 * optionally a LoRA adapter as PEFT's {@code lora.Linear}: {@code y = W·x + b + scaling·B(A·dropout(x))}.
 * W is the mapped matrix when frozen, or a float32 copy ({@link Param#value}) when trained.
 */
final class TrainableLinear {
    final FloatMatrix weight;
    final Param weightParam; // gradient target of W; null when W is frozen and not copied
    final Param bias;        // null when the layer has none
    final LoraAdapter.Module lora; // null when not adapted

    TrainableLinear(FloatMatrix weight, Param weightParam, Param bias, LoraAdapter.Module lora) {
        this.weight = weight;
        this.weightParam = weightParam;
        this.bias = bias;
        this.lora = lora;
    }

    int in() {
        return weight.cols();
    }

    int out() {
        return weight.rows();
    }

    /**
     * What the backward pass needs of a LoRA forward: the adapter's input after dropout, which inputs
     * dropout kept (null without dropout), and {@code A·input}.
     */
    record LoraActivation(float[] input, boolean[] kept, float[] down) {}

    /**
     * x {@code [tokens, in]} → y {@code [tokens, out]}. Returns the LoRA activation (null without an
     * adapter). {@code dropout} draws the LoRA input dropout mask; null means no dropout (evaluation).
     */
    LoraActivation forward(float[] x, int tokens, float[] y, RandomGenerator dropout) {
        weight.matmul(x, tokens, y, bias == null ? null : bias.value());
        if (lora == null) return null;
        float[] input = x;
        boolean[] kept = null;
        double p = lora.dropout();
        if (dropout != null && p > 0) {
            // PEFT's lora_dropout (torch.nn.Dropout on the adapter's input only): zero with probability p,
            // scale the rest by 1/(1 − p).
            int n = tokens * in();
            input = new float[n];
            kept = new boolean[n];
            float keepScale = (float) (1 / (1 - p));
            for (int i = 0; i < n; i++) {
                kept[i] = dropout.nextDouble() >= p;
                input[i] = kept[i] ? x[i] * keepScale : 0f;
            }
        }
        float[] down = new float[tokens * lora.rank()];
        lora.aMatrix().matmul(input, tokens, down);
        float[] upProjected = new float[tokens * out()];
        lora.bMatrix().matmul(down, tokens, upProjected);
        float s = lora.scaling();
        for (int i = 0; i < upProjected.length; i++) y[i] += upProjected[i] * s;
        return new LoraActivation(input, kept, down);
    }

    /**
     * Backward of {@link #forward}: accumulates the gradients of W, b and the adapter's A and B (into {@code grads}), and adds
     * {@code dY·W} (plus the adapter's share) into dX; dX may be null when the input's gradient is not needed.
     */
    void backward(float[] x, LoraActivation act, float[] dY, int tokens, float[] dX, Gradients grads) {
        if (weightParam != null && weightParam.trainable()) {
            Backward.matmulWeightGrad(dY, x, tokens, out(), in(), grads.of(weightParam));
        }
        if (bias != null && bias.trainable()) Backward.biasGrad(dY, tokens, out(), grads.of(bias));
        if (dX != null) Backward.matmulInputGrad(weight, dY, tokens, dX);
        if (lora == null) return;
        // y += s·B·u with u = A·x':  dB += s·dYᵀ·u,  du = s·dY·B,  dA += duᵀ·x',  dx' = du·A.
        int r = lora.rank();
        float s = lora.scaling();
        float[] scaledDy = new float[dY.length];
        for (int i = 0; i < scaledDy.length; i++) scaledDy[i] = dY[i] * s;
        Backward.matmulWeightGrad(scaledDy, act.down(), tokens, out(), r, grads.of(lora.b()));
        float[] dDown = new float[tokens * r];
        Backward.matmulInputGrad(lora.bMatrix(), scaledDy, tokens, dDown);
        Backward.matmulWeightGrad(dDown, act.input(), tokens, r, in(), grads.of(lora.a()));
        if (dX != null) {
            float[] dInput = new float[tokens * in()];
            Backward.matmulInputGrad(lora.aMatrix(), dDown, tokens, dInput);
            if (act.kept() == null) {
                for (int i = 0; i < dInput.length; i++) dX[i] += dInput[i];
            } else {
                float keepScale = (float) (1 / (1 - lora.dropout()));
                for (int i = 0; i < dInput.length; i++) if (act.kept()[i]) dX[i] += dInput[i] * keepScale;
            }
        }
    }
}
