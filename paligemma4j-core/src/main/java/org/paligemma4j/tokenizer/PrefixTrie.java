package org.paligemma4j.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Longest-prefix matching of a fixed set of byte strings (SentencePiece's USER_DEFINED pieces, or Hugging Face
 * added tokens). Transitions live in one open-addressing table keyed by (node, byte), and a per-first-byte
 * filter makes the common "nothing starts here" case a single array load.
 */
final class PrefixTrie {
    private final boolean[] firstBytes = new boolean[256];
    private final long[] keys;   // node << 8 | byte, or -1 for an empty slot
    private final int[] targets; // child node
    private final int[] terminal; // node -> id of the string ending there, or -1
    private final int shift;
    private final boolean empty;

    /** Builds the trie; {@code strings[i]} maps to {@code ids[i]}. */
    PrefixTrie(byte[][] strings, int[] ids) {
        Map<Long, Integer> edges = new HashMap<>();
        int nodes = 1;
        Map<Integer, Integer> ends = new HashMap<>();
        for (int i = 0; i < strings.length; i++) {
            byte[] s = strings[i];
            if (s.length == 0) continue;
            firstBytes[s[0] & 0xFF] = true;
            int node = 0;
            for (byte b : s) {
                long key = (long) node << 8 | (b & 0xFF);
                Integer child = edges.get(key);
                if (child == null) {
                    child = nodes++;
                    edges.put(key, child);
                }
                node = child;
            }
            ends.putIfAbsent(node, ids[i]);
        }
        empty = edges.isEmpty();
        int capacity = Integer.highestOneBit(Math.max(4, edges.size() * 2 - 1)) << 1;
        keys = new long[capacity];
        targets = new int[capacity];
        Arrays.fill(keys, -1L);
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
        for (Map.Entry<Long, Integer> e : edges.entrySet()) {
            int slot = slotOf(e.getKey());
            while (keys[slot] != -1L) slot = (slot + 1) & (capacity - 1);
            keys[slot] = e.getKey();
            targets[slot] = e.getValue();
        }
        terminal = new int[nodes];
        Arrays.fill(terminal, -1);
        for (Map.Entry<Integer, Integer> e : ends.entrySet()) terminal[e.getKey()] = e.getValue();
    }

    boolean isEmpty() {
        return empty;
    }

    /** Id of the longest string that starts at {@code from} and ends at or before {@code to}, or -1. */
    int longestMatch(byte[] text, int from, int to) {
        if (!firstBytes[text[from] & 0xFF]) return -1;
        int node = 0;
        int best = -1;
        for (int i = from; i < to; i++) {
            node = child(node, text[i]);
            if (node < 0) break;
            if (terminal[node] >= 0) best = terminal[node];
        }
        return best;
    }

    private int child(int node, byte b) {
        long key = (long) node << 8 | (b & 0xFF);
        int mask = keys.length - 1;
        for (int slot = slotOf(key); ; slot = (slot + 1) & mask) {
            long k = keys[slot];
            if (k == key) return targets[slot];
            if (k == -1L) return -1;
        }
    }

    private int slotOf(long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> shift);
    }
}
