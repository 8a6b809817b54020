package org.paligemma4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SentencePiece BPE encoding with Gemma's settings (identity normalizer, no dummy prefix, no whitespace
 * removal). The steps, each as SentencePiece does them:
 * <ol>
 *   <li>normalize: the text's UTF-8 bytes with every U+0020 replaced by ▁ (U+2581), nothing else;</li>
 *   <li>split into initial symbols left to right: the longest USER_DEFINED piece starting here (frozen), else
 *       one code point;</li>
 *   <li>merge adjacent unfrozen symbols whose concatenation is a piece, highest score first, leftmost on ties;</li>
 *   <li>emit each symbol's id; a symbol that is no piece becomes its bytes as {@code <0xXX>} pieces.</li>
 * </ol>
 * CONTROL pieces cannot be matched or formed from text, because only USER_DEFINED pieces are in the trie and
 * merges only produce NORMAL, USER_DEFINED or UNUSED pieces.
 */
final class SentencePieceEncoder implements TextEncoder {
    private static final byte[] SPACE_SYMBOL = "\u2581".getBytes(StandardCharsets.UTF_8);

    private final Vocabulary vocab;
    private final PieceIndex index;
    private final PrefixTrie userDefined;
    private final boolean byteFallback;
    private final boolean escapeWhitespaces;
    private final boolean hasUnused;
    private final MergeBarrier barrier;

    SentencePieceEncoder(Vocabulary vocab, boolean byteFallback, boolean escapeWhitespaces) {
        this.vocab = vocab;
        this.index = vocab.index();
        this.byteFallback = byteFallback;
        this.escapeWhitespaces = escapeWhitespaces;
        this.hasUnused = vocab.has(PieceType.UNUSED);
        int n = 0;
        for (int id = 0; id < vocab.size(); id++) {
            if (vocab.type(id) == PieceType.USER_DEFINED) n++;
        }
        byte[][] strings = new byte[n][];
        int[] ids = new int[n];
        n = 0;
        for (int id = 0; id < vocab.size(); id++) {
            if (vocab.type(id) == PieceType.USER_DEFINED) {
                strings[n] = vocab.piece(id).getBytes(StandardCharsets.UTF_8);
                ids[n++] = id;
            }
        }
        this.userDefined = new PrefixTrie(strings, ids);
        List<String> mergeable = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            if (vocab.type(id).isMergeable()) mergeable.add(vocab.piece(id));
        }
        this.barrier = new MergeBarrier(mergeable);
    }

    @Override
    public int[] encode(String text) {
        return encode(text, !hasUnused);
    }

    /**
     * @param atBarriers merge each stretch between {@link MergeBarrier}s on its own; false merges the text as one
     *     range, as SentencePiece does (the reference the barrier optimisation is tested against)
     */
    int[] encode(String text, boolean atBarriers) {
        byte[] normalized = normalize(text);
        Symbols symbols = splitIntoSymbols(normalized);
        MergeByScore rules = new MergeByScore();
        BpeMerger merger = new BpeMerger(symbols, rules);
        if (!atBarriers) {
            // Needed with UNUSED pieces: they are split back by the pair last seen forming them, which depends
            // on the global order in which pairs are queued.
            merger.mergeRange(0, symbols.count);
        } else {
            int rangeStart = 0;
            for (int i = 1; i <= symbols.count; i++) {
                if (i == symbols.count || barrier.before(symbols, i)) {
                    merger.mergeRange(rangeStart, i);
                    rangeStart = i;
                }
            }
        }
        IntList out = new IntList(symbols.count);
        for (int i = symbols.count == 0 ? -1 : 0; i >= 0; i = symbols.next[i]) {
            emit(normalized, symbols.start[i], symbols.length[i], symbols.id[i], rules, out);
        }
        return out.toArray();
    }

    /** Identity normalization plus whitespace escaping. Lone surrogates become '?' as Java's UTF-8 encoder makes them. */
    byte[] normalize(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (!escapeWhitespaces) return utf8;
        int spaces = 0;
        for (byte b : utf8) {
            if (b == ' ') spaces++;
        }
        if (spaces == 0) return utf8;
        byte[] out = new byte[utf8.length + spaces * (SPACE_SYMBOL.length - 1)];
        int j = 0;
        for (byte b : utf8) {
            if (b == ' ') {
                System.arraycopy(SPACE_SYMBOL, 0, out, j, SPACE_SYMBOL.length);
                j += SPACE_SYMBOL.length;
            } else {
                out[j++] = b;
            }
        }
        return out;
    }

    private Symbols splitIntoSymbols(byte[] text) {
        Symbols symbols = new Symbols(text, Math.max(4, text.length / 2));
        int pos = 0;
        while (pos < text.length) {
            int match = userDefined.isEmpty() ? -1 : userDefined.longestMatch(text, pos, text.length);
            if (match >= 0) {
                int len = index.byteLength(match);
                symbols.add(pos, len, match, true);
                pos += len;
            } else {
                int len = Math.min(Math.max(1, Utf8.sequenceLength(text[pos])), text.length - pos);
                symbols.add(pos, len, index.find(text, pos, len), false);
                pos += len;
            }
        }
        return symbols;
    }

    private void emit(byte[] text, int from, int len, int id, MergeByScore rules, IntList out) {
        if (id >= 0 && vocab.type(id) == PieceType.UNUSED && rules.unusedSplits != null) {
            Integer leftLength = rules.unusedSplits.get(id);
            if (leftLength != null) {
                // An UNUSED piece must not be emitted: split it back into the pair that formed it.
                emit(text, from, leftLength, index.find(text, from, leftLength), rules, out);
                emit(text, from + leftLength, len - leftLength, index.find(text, from + leftLength, len - leftLength), rules, out);
                return;
            }
        }
        if (id >= 0 && vocab.type(id) != PieceType.UNKNOWN) {
            out.add(id);
        } else if (byteFallback) {
            for (int i = from; i < from + len; i++) {
                int byteId = vocab.byteId(text[i]);
                out.add(byteId >= 0 ? byteId : vocab.unkId());
            }
        } else {
            out.add(vocab.unkId());
        }
    }

    /** SentencePiece's rule: two symbols merge if their concatenation is a mergeable piece; its score is the priority. */
    private final class MergeByScore implements BpeMerger.Rules {
        /** UNUSED piece id -> byte length of the left half of the last pair seen forming it. */
        Map<Integer, Integer> unusedSplits = hasUnused ? new HashMap<>() : null;

        @Override
        public int find(Symbols s, int left, int right) {
            int leftLength = s.length[left];
            int rightLength = s.length[right];
            int length = leftLength + rightLength;
            if (length > index.maxLength()) return -1;
            long hash = index.concat(hashOf(s, left), hashOf(s, right), rightLength);
            int id = index.find(hash, s.text, s.start[left], length);
            if (id < 0 || !vocab.type(id).isMergeable()) return -1;
            if (unusedSplits != null && vocab.type(id) == PieceType.UNUSED) unusedSplits.put(id, leftLength);
            return id;
        }

        @Override
        public float priority(int rule) {
            return vocab.score(rule);
        }

        @Override
        public int result(int rule) {
            return rule;
        }

        private long hashOf(Symbols s, int i) {
            int id = s.id[i];
            return id >= 0 ? index.hashOf(id) : PieceIndex.hash(s.text, s.start[i], s.start[i] + s.length[i]);
        }
    }
}
