package org.paligemma4j.tokenizer;

/**
 * Byte-pair merging in O(n log n): a priority queue holds every adjacent pair that may merge; the best pair
 * (highest priority, then leftmost) is merged, its neighbours form new candidate pairs, and entries made stale
 * by earlier merges are skipped when they surface. SentencePiece and Hugging Face BPE both work this way; they
 * differ only in the {@link Rules} (piece score versus merge rank).
 */
final class BpeMerger {
    private BpeMerger() {}

    /** Which adjacent pairs may merge, and with what priority. */
    interface Rules {
        /** A rule number if symbols {@code left} and {@code right} (adjacent) may merge, else -1. */
        int find(Symbols symbols, int left, int right);

        /** Priority of a rule: higher merges first. */
        float priority(int rule);

        /** Piece id of the symbol a rule produces. */
        int result(int rule);
    }

    static void mergeAll(Symbols s, Rules rules) {
        if (s.count < 2) return;
        PairQueue queue = new PairQueue(3 * s.count);
        for (int i = 1; i < s.count; i++) offer(s, rules, queue, i - 1, i);
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
            offer(s, rules, queue, s.prev[left], left);
            offer(s, rules, queue, left, after);
        }
    }

    private static void offer(Symbols s, Rules rules, PairQueue queue, int left, int right) {
        if (left < 0 || right < 0 || s.frozen[left] || s.frozen[right]) return;
        int rule = rules.find(s, left, right);
        if (rule >= 0) {
            queue.add(left, right, s.length[left] + s.length[right], rules.priority(rule), rule);
        }
    }

    /** A binary max-heap of candidate pairs ordered by priority, then by smaller left index. */
    private static final class PairQueue {
        private int[] lefts;
        private int[] rights;
        private int[] mergedLengths;
        private float[] priorities;
        private int[] ruleOf;
        private int[] heap;
        private int entries;
        private int size;

        PairQueue(int capacity) {
            lefts = new int[capacity];
            rights = new int[capacity];
            mergedLengths = new int[capacity];
            priorities = new float[capacity];
            ruleOf = new int[capacity];
            heap = new int[capacity];
        }

        boolean isEmpty() {
            return size == 0;
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

        void add(int left, int right, int mergedLength, float priority, int rule) {
            if (entries == lefts.length) grow();
            int e = entries++;
            lefts[e] = left;
            rights[e] = right;
            mergedLengths[e] = mergedLength;
            priorities[e] = priority;
            ruleOf[e] = rule;
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (!before(e, heap[parent])) break;
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = e;
        }

        int poll() {
            int top = heap[0];
            int last = heap[--size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) break;
                if (child + 1 < size && before(heap[child + 1], heap[child])) child++;
                if (!before(heap[child], last)) break;
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }

        private boolean before(int a, int b) {
            float pa = priorities[a];
            float pb = priorities[b];
            if (pa != pb) return pa > pb;
            return lefts[a] < lefts[b];
        }

        private void grow() {
            int n = lefts.length * 2 + 16;
            lefts = java.util.Arrays.copyOf(lefts, n);
            rights = java.util.Arrays.copyOf(rights, n);
            mergedLengths = java.util.Arrays.copyOf(mergedLengths, n);
            priorities = java.util.Arrays.copyOf(priorities, n);
            ruleOf = java.util.Arrays.copyOf(ruleOf, n);
            heap = java.util.Arrays.copyOf(heap, n);
        }
    }
}
