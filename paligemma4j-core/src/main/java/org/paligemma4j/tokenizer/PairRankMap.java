package org.paligemma4j.tokenizer;

import java.util.Arrays;

/** Open-addressing map from a pair of token ids to a merge rank: the merge table of Hugging Face BPE. */
final class PairRankMap {
    private final long[] keys;
    private final int[] ranks;
    private final int shift;

    PairRankMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        ranks = new int[capacity];
        Arrays.fill(keys, -1L);
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
    }

    /** Maps the pair to {@code rank}, replacing an earlier rank (a repeated merge line counts at its last position). */
    void put(int left, int right, int rank) {
        long key = key(left, right);
        int mask = keys.length - 1;
        int slot = slotOf(key);
        while (keys[slot] != -1L && keys[slot] != key) slot = (slot + 1) & mask;
        keys[slot] = key;
        ranks[slot] = rank;
    }

    /** Rank of the merge of {@code left} and {@code right}, or -1. */
    int get(int left, int right) {
        long key = key(left, right);
        int mask = keys.length - 1;
        for (int slot = slotOf(key); ; slot = (slot + 1) & mask) {
            long k = keys[slot];
            if (k == key) return ranks[slot];
            if (k == -1L) return -1;
        }
    }

    private static long key(int left, int right) {
        return (long) left << 32 | (right & 0xFFFF_FFFFL);
    }

    private int slotOf(long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> shift);
    }
}
