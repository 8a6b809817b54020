package org.paligemma4j.tokenizer;

import java.util.Arrays;

/**
 * Byte-pair merging in O(n log n): a priority queue holds every adjacent pair that may merge; the best pair
 * (highest priority, then leftmost) is merged, its neighbours form new candidate pairs, and entries made stale
 * by earlier merges are skipped when they surface. SentencePiece and Hugging Face BPE both work this way; they
 * differ only in the {@link Rules} (piece score versus merge rank).
 */
final class BpeMerger {
    private final Symbols s;
    private final Rules rules;
    private final PairQueue queue = new PairQueue(64);

    /** Which adjacent pairs may merge, and with what priority. */
    interface Rules {
        /** A rule number if symbols {@code left} and {@code right} (adjacent) may merge, else -1. */
        int find(Symbols symbols, int left, int right);

        /** Priority of a rule: higher merges first. */
        float priority(int rule);

        /** Piece id of the symbol a rule produces. */
        int result(int rule);
    }

    BpeMerger(Symbols symbols, Rules rules) {
        this.s = symbols;
        this.rules = rules;
    }

    /**
     * Merges symbols {@code from..to-1} to completion. The caller guarantees that no merge can cross either end
     * of the range (see {@link MergeBarrier}), so ranges are independent and each needs only a small queue.
     */
    void mergeRange(int from, int to) {
        for (int i = from + 1; i < to; i++) offer(i - 1, i);
        while (!queue.isEmpty()) {
            int entry = queue.poll();
            int left = queue.left(entry);
            int right = queue.right(entry);
            // A pair is stale once either side was merged into something else: the right side is then empty
            // or no longer adjacent, or the right side grew and the lengths no longer add up.
            if (s.length[left] == 0 || s.length[right] == 0 || s.next[left] != right
                    || s.length[left] + s.length[right] != queue.mergedLength(entry)) {
                continue;
            }
            s.length[left] += s.length[right];
            s.id[left] = rules.result(queue.rule(entry));
            int after = s.next[right];
            s.next[left] = after;
            if (after >= 0) s.prev[after] = left;
            s.length[right] = 0;
            s.next[right] = -1;
            s.prev[right] = -1;
            offer(s.prev[left], left);
            offer(left, after);
        }
        queue.clear();
    }

    private void offer(int left, int right) {
        if (left < 0 || right < 0 || s.frozen[left] || s.frozen[right]) return;
        int rule = rules.find(s, left, right);
        if (rule >= 0) {
            queue.add(left, right, s.length[left] + s.length[right], rules.priority(rule), rule);
        }
    }

    /**
     * A binary max-heap of candidate pairs. Each heap slot holds one long key, priority then leftness, so a
     * comparison reads one array sequentially instead of two at random (large inputs have a million entries).
     */
    private static final class PairQueue {
        private int[] lefts;
        private int[] rights;
        private int[] mergedLengths;
        private int[] ruleOf;
        private long[] heapKeys;
        private int[] heapEntries;
        private int entries;
        private int size;

        PairQueue(int capacity) {
            lefts = new int[capacity];
            rights = new int[capacity];
            mergedLengths = new int[capacity];
            ruleOf = new int[capacity];
            heapKeys = new long[capacity];
            heapEntries = new int[capacity];
        }

        boolean isEmpty() {
            return size == 0;
        }

        /** Forgets all entries (stale ones included) so the arrays can serve the next range. */
        void clear() {
            size = 0;
            entries = 0;
        }

        int left(int e) {
            return lefts[e];
        }

        int right(int e) {
            return rights[e];
        }

        int mergedLength(int e) {
            return mergedLengths[e];
        }

        int rule(int e) {
            return ruleOf[e];
        }

        /**
         * Orders by priority (higher first), then by left index (smaller first): the float's bits made
         * order-preserving as a signed int in the high half, the complemented left index in the low half.
         */
        static long key(float priority, int left) {
            int bits = Float.floatToIntBits(priority == 0f ? 0f : priority); // -0.0 ties with 0.0, as with float <
            int ordered = bits >= 0 ? bits : bits ^ 0x7FFF_FFFF;
            return (long) ordered << 32 | (~left & 0xFFFF_FFFFL);
        }

        void add(int left, int right, int mergedLength, float priority, int rule) {
            if (entries == lefts.length) grow();
            int e = entries++;
            lefts[e] = left;
            rights[e] = right;
            mergedLengths[e] = mergedLength;
            ruleOf[e] = rule;
            long key = key(priority, left);
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heapKeys[parent] >= key) break;
                heapKeys[i] = heapKeys[parent];
                heapEntries[i] = heapEntries[parent];
                i = parent;
            }
            heapKeys[i] = key;
            heapEntries[i] = e;
        }

        int poll() {
            int top = heapEntries[0];
            long lastKey = heapKeys[--size];
            int lastEntry = heapEntries[size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) break;
                if (child + 1 < size && heapKeys[child + 1] > heapKeys[child]) child++;
                if (heapKeys[child] <= lastKey) break;
                heapKeys[i] = heapKeys[child];
                heapEntries[i] = heapEntries[child];
                i = child;
            }
            heapKeys[i] = lastKey;
            heapEntries[i] = lastEntry;
            return top;
        }

        private void grow() {
            int n = lefts.length * 2 + 16;
            lefts = Arrays.copyOf(lefts, n);
            rights = Arrays.copyOf(rights, n);
            mergedLengths = Arrays.copyOf(mergedLengths, n);
            ruleOf = Arrays.copyOf(ruleOf, n);
            heapKeys = Arrays.copyOf(heapKeys, n);
            heapEntries = Arrays.copyOf(heapEntries, n);
        }
    }
}
