package org.paligemma4j.tensor;

import java.util.Objects;

/**
 * One weight matrix's part of {@link FloatMatrix#matmulAll}: {@code out = epilogue(weight·x + bias)}
 * over a batch of tokens, out being {@code [tokens, weight.rows()]}; bias may be null.
 */
public record Product(FloatMatrix weight, float[] out, float[] bias, Epilogue epilogue) {
    public Product {
        Objects.requireNonNull(weight, "weight");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(epilogue, "epilogue");
        if (bias != null && bias.length != weight.rows) {
            throw new IllegalArgumentException(weight.name + ": bias of " + bias.length + " for " + weight.rows + " rows");
        }
    }
}
