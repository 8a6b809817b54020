package org.paligemma4j.model;

import org.paligemma4j.tensor.AttentionMask;

/**
 * The prefix-LM mask: the prefix (image tokens, {@code <bos>}, prompt, {@code \n}) attends to itself
 * fully, in both directions; the suffix (generated or teacher-forced tokens) is causal. Query i sees key j
 * iff {@code j ≤ i or j < prefixLength}:
 *
 * <pre>
 *            keys → p p p s s s        p = prefix, s = suffix
 *   query p        1 1 1 . . .
 *         p        1 1 1 . . .
 *         p        1 1 1 . . .
 *         s        1 1 1 1 . .
 *         s        1 1 1 1 1 .
 *         s        1 1 1 1 1 1
 * </pre>
 *
 * On Gemma 2's sliding-window layers the visible keys are further limited to the last {@code window}
 * positions, with the prefix exempt as {@link SlidingWindowSemantics} says.
 */
public record PrefixLmMask(int prefixLength, int window, SlidingWindowSemantics semantics) implements AttentionMask {

    /** A mask without a sliding window. */
    public static PrefixLmMask global(int prefixLength) {
        return new PrefixLmMask(prefixLength, 0, SlidingWindowSemantics.FULL);
    }

    /** The mask of a layer: windowed when the layer is a sliding-window layer. */
    public static PrefixLmMask forLayer(int prefixLength, boolean slidingLayer, Integer window, SlidingWindowSemantics semantics) {
        if (!slidingLayer || window == null || semantics == SlidingWindowSemantics.FULL) return global(prefixLength);
        return new PrefixLmMask(prefixLength, window, semantics);
    }

    @Override
    public int firstVisibleKey(int query) {
        if (window <= 0) return 0;
        if (semantics == SlidingWindowSemantics.TRANSFORMERS && query < prefixLength) return 0;
        return Math.max(0, query - window + 1);
    }

    @Override
    public int endVisibleKeys(int query) {
        return Math.max(query + 1, prefixLength);
    }

    /** Whether query i may attend to key j (the same rule, one pair at a time; used by tests). */
    public boolean visible(int query, int key) {
        return key >= firstVisibleKey(query) && key < endVisibleKeys(query);
    }
}
