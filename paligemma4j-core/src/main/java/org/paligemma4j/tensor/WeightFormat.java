package org.paligemma4j.tensor;

import java.util.Locale;

/**
 * How weight matrices are held in memory. Decode reads every weight once per token, so bytes per weight
 * set its speed: bf16 2, q8 ≈1.13, q4 ≈0.63 (scales included).
 */
public enum WeightFormat {
    /** f32/bf16/f16 as stored in the checkpoint, read in place from the mapped file. */
    AS_STORED,
    /** int8, symmetric, one float32 scale per 32 consecutive weights of a row. */
    Q8,
    /** int4, symmetric, one float32 scale per 32 consecutive weights of a row. */
    Q4;

    /** The {@code --quant} names: none, q8, q4. */
    public static WeightFormat parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "none" -> AS_STORED;
            case "q8" -> Q8;
            case "q4" -> Q4;
            default -> throw new IllegalArgumentException("unknown weight format '" + name + "' (use none, q8 or q4)");
        };
    }

    public String cliName() {
        return this == AS_STORED ? "none" : name().toLowerCase(Locale.ROOT);
    }
}
