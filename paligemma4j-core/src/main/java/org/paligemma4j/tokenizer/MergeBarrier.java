package org.paligemma4j.tokenizer;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * Finds places in the text that no merge can ever cross, so that BPE can run on each stretch between them
 * separately: the result is identical (merges on either side never compete) and each stretch needs only a small,
 * cache-resident queue, which keeps encoding time per byte flat from kilobytes to megabytes.
 *
 * <p>A merge that crosses the point between characters {@code c} and {@code ▁} yields a piece containing
 * "c▁". So if no piece that merging can produce contains "c▁", every ▁ that follows a {@code c} is a barrier.
 * In Gemma's vocabulary only "▁▁" occurs: every word boundary is a barrier.
 */
final class MergeBarrier {
    private static final char SPACE_SYMBOL = '\u2581';
    private static final byte[] SPACE_SYMBOL_UTF8 = {(byte) 0xE2, (byte) 0x96, (byte) 0x81};

    /** Sorted code points c such that some mergeable piece contains c followed by ▁. */
    private final int[] joinsSpace;

    /** @param pieces every string a merge can produce */
    MergeBarrier(Iterable<String> pieces) {
        TreeSet<Integer> before = new TreeSet<>();
        for (String p : pieces) {
            for (int i = p.indexOf(SPACE_SYMBOL, 1); i > 0; i = p.indexOf(SPACE_SYMBOL, i + 1)) {
                before.add(p.codePointBefore(i));
            }
        }
        joinsSpace = before.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Whether no merge can join single-character symbol {@code i - 1} with symbol {@code i}. */
    boolean before(Symbols s, int i) {
        if (s.frozen[i] || s.frozen[i - 1]) return true;
        byte[] t = s.text;
        int at = s.start[i];
        if (s.length[i] < 3 || t[at] != SPACE_SYMBOL_UTF8[0] || t[at + 1] != SPACE_SYMBOL_UTF8[1] || t[at + 2] != SPACE_SYMBOL_UTF8[2]) {
            return false;
        }
        int prevStart = s.start[i - 1];
        int prevLength = s.length[i - 1];
        int c = prevLength == Utf8.sequenceLength(t[prevStart]) ? Utf8.decode(t, prevStart, prevLength) : -1;
        return c >= 0 && Arrays.binarySearch(joinsSpace, c) < 0;
    }
}
