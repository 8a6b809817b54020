package org.paligemma4j.model;

import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.WeightNames;
import org.paligemma4j.tensor.Epilogue;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.Product;
import org.paligemma4j.tensor.Q4Matrix;
import org.paligemma4j.tensor.Q8Matrix;
import org.paligemma4j.tensor.WeightFormat;

/** A linear layer {@code y = W·x (+ b)} over a batch of tokens; the weight stays in mapped memory. */
final class Linear {
    final FloatMatrix weight;
    private final float[] bias;
    /** A LoRA adapter's module for this layer, applied at inference (see {@link #addAdapter}); null without one. */
    private LoraAdapter.Module adapter;

    Linear(ModelWeights w, String weightName, String biasName, WeightFormat format) {
        this.weight = matrix(w, weightName, format);
        this.bias = biasName == null ? null : w.get(biasName).toFloatArray();
    }

    /**
     * The weight matrix {@code name} in {@code format}, unless the checkpoint already stores it quantized
     * (saved by {@code paligemma quantize}): then the saved form is used as is.
     */
    static FloatMatrix matrix(ModelWeights w, String name, WeightFormat format) {
        ModelWeights.StoredQuantized q = w.quantized(name);
        if (q == null) return WeightMatrices.of(w.get(name), format);
        String tensor = q.weights().name();
        String base = tensor.substring(0, tensor.length() - ModelWeights.Q8.length());
        return q.format() == WeightFormat.Q8
                ? Q8Matrix.fromStored(base, q.rows(), q.cols(), q.weights().data(), q.scales().data())
                : Q4Matrix.fromStored(base, q.rows(), q.cols(), q.weights().data(), q.scales().data());
    }

    /** Picks this layer's module, if any, out of {@code lora} (null detaches). */
    void attach(LoraAdapter lora) {
        adapter = lora == null ? null : lora.forWeight(WeightNames.canonical(weight.name()));
    }

    boolean adapted() {
        return adapter != null;
    }

    /**
     * {@code y += scaling·B·(A·x)}: the adapter's share of this layer's output, added after the product
     * as PEFT's lora.Linear adds it (no dropout at inference). Does nothing without an adapter.
     */
    void addAdapter(float[] x, int tokens, float[] y) {
        if (adapter == null) return;
        float[] down = new float[tokens * adapter.rank()], up = new float[tokens * out()];
        adapter.aMatrix().matmul(x, tokens, down);
        adapter.bMatrix().matmul(down, tokens, up);
        float s = adapter.scaling();
        for (int i = 0; i < up.length; i++) y[i] += up[i] * s;
    }

    /**
     * {@link #addAdapter} for the rows of one batched decode step, each row computed as a lone decode step computes
     * it (so an adapted model's batched sequences still match their lone runs bit for bit).
     */
    void addAdapterStep(float[] x, int rows, float[] y) {
        if (adapter == null) return;
        float[] down = new float[rows * adapter.rank()], up = new float[rows * out()];
        FloatMatrix.matvecAll(x, rows, new Product(adapter.aMatrix(), down, null, Epilogue.STORE));
        FloatMatrix.matvecAll(down, rows, new Product(adapter.bMatrix(), up, null, Epilogue.STORE));
        float s = adapter.scaling();
        for (int i = 0; i < up.length; i++) y[i] += up[i] * s;
    }

    int in() {
        return weight.cols();
    }

    int out() {
        return weight.rows();
    }

    /** x {@code [tokens, in]} → y {@code [tokens, out]}. */
    void apply(float[] x, int tokens, float[] y) {
        weight.matmul(x, tokens, y, bias);
    }

    /** {@link #apply} with every output summed in double and rounded once ({@link FloatMatrix#matmulInDouble}). */
    void applyInDouble(float[] x, int tokens, float[] y) {
        weight.matmulInDouble(x, tokens, y, bias);
    }

    /** This layer as one product of {@link FloatMatrix#matmulAll}: {@code y = W·x + b}. */
    Product into(float[] y) {
        return new Product(weight, y, bias, Epilogue.STORE);
    }

    /** {@code residual += W·x + b}: a residual connection, summed where the outputs are computed. */
    Product addedTo(float[] residual) {
        return new Product(weight, residual, bias, Epilogue.ADD);
    }

    /** {@code y = geluTanh(W·x + b)}: an MLP's first layer with its activation. */
    Product geluInto(float[] y) {
        return new Product(weight, y, bias, Epilogue.GELU_TANH);
    }
}
