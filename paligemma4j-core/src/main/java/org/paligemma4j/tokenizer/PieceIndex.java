package org.paligemma4j.tokenizer;

import java.util.Arrays;

/**
 * Finds the id of a piece from a range of UTF-8 bytes without allocating. Pieces are hashed with a polynomial
 * hash, so the hash of two adjacent symbols joined is computed from their two hashes: BPE asks "is left+right a
 * piece?" millions of times and never has to rehash the bytes.
 */
final class PieceIndex {
    private static final long BASE = 0x100000001B3L;
    private static final long MIX = 0x9E3779B97F4A7C15L;

    private final byte[] pool;
    private final int[] offsets; // piece id -> start in pool; offsets[n] = pool length
    private final long[] hashes;
    private final int[] slots; // open addressing: piece id + 1, 0 = empty
    private final int shift;
    private final long[] powers; // BASE^k for k <= maxLength
    private final int maxLength;
    private int duplicateId = -1;
    private int duplicateOf = -1;

    PieceIndex(byte[][] pieces) {
        int n = pieces.length;
        long total = 0;
        int longest = 0;
        for (byte[] p : pieces) {
            total += p.length;
            longest = Math.max(longest, p.length);
        }
        if (total > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("vocabulary too large: " + total + " bytes");
        pool = new byte[(int) total];
        offsets = new int[n + 1];
        hashes = new long[n];
        int at = 0;
        for (int id = 0; id < n; id++) {
            offsets[id] = at;
            System.arraycopy(pieces[id], 0, pool, at, pieces[id].length);
            at += pieces[id].length;
            hashes[id] = hash(pieces[id], 0, pieces[id].length);
        }
        offsets[n] = at;
        maxLength = longest;
        powers = new long[longest + 1];
        powers[0] = 1;
        for (int k = 1; k <= longest; k++) powers[k] = powers[k - 1] * BASE;

        int capacity = Integer.highestOneBit(Math.max(4, n * 2 - 1)) << 1;
        slots = new int[capacity];
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
        for (int id = 0; id < n; id++) {
            int existing = find(hashes[id], pool, offsets[id], offsets[id + 1] - offsets[id]);
            if (existing >= 0) {
                if (duplicateId < 0) {
                    duplicateId = id;
                    duplicateOf = existing;
                }
                continue;
            }
            int slot = slotOf(hashes[id]);
            while (slots[slot] != 0) slot = (slot + 1) & (capacity - 1);
            slots[slot] = id + 1;
        }
    }

    /** Polynomial hash of a byte range; +1 keeps runs of NUL bytes of different lengths apart. */
    static long hash(byte[] bytes, int from, int to) {
        long h = 0;
        for (int i = from; i < to; i++) h = h * BASE + (bytes[i] & 0xFF) + 1;
        return h;
    }

    /** Hash of the concatenation of a range with hash {@code left} and one of {@code rightLength} bytes with hash {@code right}. */
    long concat(long left, long right, int rightLength) {
        return left * powers[rightLength] + right;
    }

    /** Id of the piece equal to {@code bytes[from, from + length)}, or -1. */
    int find(byte[] bytes, int from, int length) {
        if (length > maxLength) return -1;
        return find(hash(bytes, from, from + length), bytes, from, length);
    }

    /** As {@link #find(byte[], int, int)} with the range's hash already known. */
    int find(long hash, byte[] bytes, int from, int length) {
        if (length > maxLength) return -1;
        int mask = slots.length - 1;
        for (int slot = slotOf(hash); ; slot = (slot + 1) & mask) {
            int entry = slots[slot];
            if (entry == 0) return -1;
            int id = entry - 1;
            if (hashes[id] == hash && offsets[id + 1] - offsets[id] == length
                    && Arrays.equals(pool, offsets[id], offsets[id + 1], bytes, from, from + length)) {
                return id;
            }
        }
    }

    long hashOf(int id) {
        return hashes[id];
    }

    int byteLength(int id) {
        return offsets[id + 1] - offsets[id];
    }

    int maxLength() {
        return maxLength;
    }

    /** After construction: the first id whose bytes repeat an earlier piece, or -1. */
    int duplicateId() {
        return duplicateId;
    }

    /** The earlier id that {@link #duplicateId()} repeats. */
    int duplicateOf() {
        return duplicateOf;
    }

    private int slotOf(long hash) {
        return (int) ((hash * MIX) >>> shift);
    }
}
