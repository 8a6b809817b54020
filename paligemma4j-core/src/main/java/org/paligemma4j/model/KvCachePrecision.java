package org.paligemma4j.model;

import java.util.Locale;

/**
 * How a {@link KvCache} stores keys and values. {@link #FLOAT32}, the default, holds them as computed, as the
 * reference does. {@link #BFLOAT16} rounds each to bfloat16 (round to nearest even) when it is stored and widens
 * it back when attention reads it: half the memory and half the bytes read per decode step at long contexts,
 * at the price of results that differ slightly from the reference's.
 */
public enum KvCachePrecision {
    FLOAT32("f32"),
    BFLOAT16("bf16");

    private final String label;

    KvCachePrecision(String label) {
        this.label = label;
    }

    /** Bytes of one stored key or value element. */
    public int bytesPerElement() {
        return this == FLOAT32 ? 4 : 2;
    }

    /** The short name the command line uses: {@code f32} or {@code bf16}. */
    public String label() {
        return label;
    }

    /** {@code f32}/{@code float32} or {@code bf16}/{@code bfloat16}, any case. */
    public static KvCachePrecision parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "f32", "float32" -> FLOAT32;
            case "bf16", "bfloat16" -> BFLOAT16;
            default -> throw new IllegalArgumentException("KV cache precision must be f32 or bf16, not '" + name + "'");
        };
    }
}
