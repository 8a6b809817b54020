package org.paligemma4j.tokenizer;

import java.util.Arrays;

/**
 * The symbols of one BPE run as a doubly linked list over a byte array. A symbol is a byte range of the
 * normalized text; a merge grows the left symbol over the right one and empties the right one, so a symbol's
 * index is also its position order (what "leftmost" means in a tie).
 */
final class Symbols {
    final byte[] text;
    int count;
    int[] start;
    int[] length;
    int[] prev;
    int[] next;
    /** Piece id of the symbol, or -1 if its bytes are no piece. */
    int[] id;
    /** Frozen symbols (USER_DEFINED matches) never take part in a merge. */
    boolean[] frozen;

    Symbols(byte[] text, int capacity) {
        this.text = text;
        start = new int[capacity];
        length = new int[capacity];
        prev = new int[capacity];
        next = new int[capacity];
        id = new int[capacity];
        frozen = new boolean[capacity];
    }

    /** Appends a symbol after the current last one. */
    void add(int from, int len, int pieceId, boolean isFrozen) {
        if (count == start.length) grow();
        int i = count++;
        start[i] = from;
        length[i] = len;
        id[i] = pieceId;
        frozen[i] = isFrozen;
        prev[i] = i - 1;
        next[i] = -1;
        if (i > 0) next[i - 1] = i;
    }

    private void grow() {
        int n = Math.max(16, start.length * 2);
        start = Arrays.copyOf(start, n);
        length = Arrays.copyOf(length, n);
        prev = Arrays.copyOf(prev, n);
        next = Arrays.copyOf(next, n);
        id = Arrays.copyOf(id, n);
        frozen = Arrays.copyOf(frozen, n);
    }
}
