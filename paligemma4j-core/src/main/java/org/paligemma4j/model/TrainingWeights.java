package org.paligemma4j.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.tensor.ArrayMatrix;
import org.paligemma4j.tensor.FloatMatrix;

/**
 * The model's tensors as training sees them: trained ones copied to float32 master values with a
 * gradient each, frozen matrices left mapped as stored, and every parameter registered under its
 * canonical name in the checkpoint's order.
 */
final class TrainingWeights {
    private final ModelWeights weights;
    private final Predicate<String> trainable;
    private final LoraAdapter adapter;
    private final Map<String, Param> params = new LinkedHashMap<>();

    TrainingWeights(ModelWeights weights, Predicate<String> trainable, LoraAdapter adapter) {
        this.weights = weights;
        this.trainable = trainable;
        this.adapter = adapter;
    }

    /** A small tensor (norm weight, bias, position table) as float32, trained or not. */
    Param vector(String name) {
        SafeTensor t = weights.get(name);
        return register(new Param(name, t.shape(), t.toFloatArray(), trainable.test(name)));
    }

    /** A weight matrix: a float32 copy with a gradient when trained, else the mapped tensor. */
    MatrixParam matrix(String name) {
        SafeTensor t = weights.get(name);
        FloatMatrix mapped = WeightMatrices.of(t);
        if (!trainable.test(name)) return new MatrixParam(mapped, null);
        Param p = register(new Param(name, t.shape(), t.toFloatArray(), true));
        return new MatrixParam(new ArrayMatrix(name, p.value(), mapped.rows(), mapped.cols()), p);
    }

    record MatrixParam(FloatMatrix matrix, Param param) {}

    /** A linear layer (bias may be null), with the adapter's module for its weight if there is one. */
    TrainableLinear linear(String weightName, String biasName) {
        MatrixParam w = matrix(weightName);
        Param bias = biasName == null ? null : vector(biasName);
        return new TrainableLinear(w.matrix(), w.param(), bias, adapter == null ? null : adapter.forWeight(weightName));
    }

    private Param register(Param p) {
        params.put(p.name(), p);
        return p;
    }

    /** Every trained parameter of the base model by canonical name (LoRA parameters live in the adapter). */
    Map<String, Param> trained() {
        Map<String, Param> out = new LinkedHashMap<>();
        params.forEach((name, p) -> {
            if (p.trainable()) out.put(name, p);
        });
        return out;
    }
}
