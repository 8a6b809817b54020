package org.paligemma4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Encoding as a Hugging Face {@code tokenizer.json} BPE model does it (the subset Gemma's files use):
 * <ol>
 *   <li>added tokens are cut out of the raw text first (leftmost, then longest) and emitted as their ids —
 *       including CONTROL tokens such as {@code <bos>}, which SentencePiece would tokenize as plain text;</li>
 *   <li>the rest is normalized (literal replacements, e.g. " " → "▁"), added tokens marked {@code normalized}
 *       are cut out of the normalized text, and a literal-string {@code Split} pre-tokenizer makes words;</li>
 *   <li>each word is merged from single characters by merge rank (lowest first, leftmost on ties);</li>
 *   <li>a character that is not in the vocabulary becomes {@code <0xXX>} byte tokens.</li>
 * </ol>
 */
final class HfBpeEncoder implements TextEncoder {
    /** One {@code Split} pre-tokenizer on a literal string. */
    record Split(String pattern, String behavior) {}

    private final Vocabulary vocab;
    private final PieceIndex index;
    private final PrefixTrie rawAddedTokens;
    private final PrefixTrie normalizedAddedTokens;
    private final List<UnaryOperator<String>> normalizer;
    private final List<Split> preTokenizer;
    private final PairRankMap mergeRanks;
    private final int[] mergeResults;
    private final boolean byteFallback;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final MergeBarrier barrier;

    HfBpeEncoder(Vocabulary vocab, PrefixTrie rawAddedTokens, PrefixTrie normalizedAddedTokens,
                 List<UnaryOperator<String>> normalizer, List<Split> preTokenizer, PairRankMap mergeRanks,
                 int[] mergeResults, boolean byteFallback, boolean fuseUnk, boolean ignoreMerges) {
        this.vocab = vocab;
        this.index = vocab.index();
        this.rawAddedTokens = rawAddedTokens;
        this.normalizedAddedTokens = normalizedAddedTokens;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.mergeRanks = mergeRanks;
        this.mergeResults = mergeResults;
        this.byteFallback = byteFallback;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
        List<String> results = new ArrayList<>();
        for (int id : mergeResults) results.add(vocab.piece(id));
        this.barrier = new MergeBarrier(results);
    }

    @Override
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 2);
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        forEachSegment(raw, rawAddedTokens, out, (from, to) -> {
            String normalized = normalize(new String(raw, from, to - from, StandardCharsets.UTF_8));
            byte[] bytes = normalized.getBytes(StandardCharsets.UTF_8);
            forEachSegment(bytes, normalizedAddedTokens, out, (f, t) -> {
                for (String word : preTokenize(new String(bytes, f, t - f, StandardCharsets.UTF_8))) {
                    encodeWord(word.getBytes(StandardCharsets.UTF_8), out);
                }
            });
        });
        return out.toArray();
    }

    private interface Segment {
        void accept(int from, int to);
    }

    /** Emits the ids of added tokens found in {@code bytes} and hands every stretch between them to {@code segment}. */
    private void forEachSegment(byte[] bytes, PrefixTrie tokens, IntList out, Segment segment) {
        int segmentStart = 0;
        int pos = 0;
        while (pos < bytes.length) {
            int id = tokens.isEmpty() ? -1 : tokens.longestMatch(bytes, pos, bytes.length);
            if (id < 0) {
                pos += Math.max(1, Utf8.sequenceLength(bytes[pos]));
                continue;
            }
            if (pos > segmentStart) segment.accept(segmentStart, pos);
            out.add(id);
            pos += index.byteLength(id);
            segmentStart = pos;
        }
        if (bytes.length > segmentStart) segment.accept(segmentStart, bytes.length);
    }

    private String normalize(String s) {
        for (UnaryOperator<String> step : normalizer) s = step.apply(s);
        return s;
    }

    private List<String> preTokenize(String s) {
        List<String> words = List.of(s);
        for (Split split : preTokenizer) {
            List<String> next = new ArrayList<>();
            for (String w : words) split(w, split, next);
            words = next;
        }
        return words;
    }

    /** Hugging Face's {@code Split} with a literal pattern and one of its five delimiter behaviours. */
    private static void split(String s, Split split, List<String> out) {
        String p = split.pattern();
        List<int[]> parts = new ArrayList<>(); // [from, to, isDelimiter]
        int at = 0;
        for (int hit = s.indexOf(p); hit >= 0 && !p.isEmpty(); hit = s.indexOf(p, hit + p.length())) {
            if (hit > at) parts.add(new int[] {at, hit, 0});
            parts.add(new int[] {hit, hit + p.length(), 1});
            at = hit + p.length();
        }
        if (at < s.length()) parts.add(new int[] {at, s.length(), 0});
        List<int[]> words = new ArrayList<>();
        switch (split.behavior()) {
            case "Removed" -> parts.stream().filter(x -> x[2] == 0).forEach(words::add);
            case "Isolated" -> words.addAll(parts);
            case "MergedWithPrevious" -> {
                for (int[] x : parts) {
                    if (x[2] == 1 && !words.isEmpty() && words.getLast()[2] == 0) words.getLast()[1] = x[1];
                    else words.add(new int[] {x[0], x[1], 0});
                }
            }
            case "MergedWithNext" -> {
                int[] carry = null;
                for (int[] x : parts) {
                    if (x[2] == 1) {
                        if (carry != null) words.add(carry);
                        carry = new int[] {x[0], x[1], 1};
                    } else if (carry != null) {
                        words.add(new int[] {carry[0], x[1], 0});
                        carry = null;
                    } else {
                        words.add(x);
                    }
                }
                if (carry != null) words.add(carry);
            }
            case "Contiguous" -> {
                for (int[] x : parts) {
                    if (x[2] == 1 && !words.isEmpty() && words.getLast()[2] == 1) words.getLast()[1] = x[1];
                    else words.add(new int[] {x[0], x[1], x[2]});
                }
            }
            default -> throw new IllegalStateException("unchecked Split behavior " + split.behavior());
        }
        for (int[] w : words) out.add(s.substring(w[0], w[1]));
    }

    private void encodeWord(byte[] word, IntList out) {
        if (word.length == 0) return;
        if (ignoreMerges) {
            int whole = index.find(word, 0, word.length);
            if (whole >= 0) {
                out.add(whole);
                return;
            }
        }
        Symbols symbols = new Symbols(word, Math.max(4, word.length / 2));
        for (int pos = 0; pos < word.length; ) {
            int len = Math.min(Math.max(1, Utf8.sequenceLength(word[pos])), word.length - pos);
            symbols.add(pos, len, index.find(word, pos, len), false);
            pos += len;
        }
        BpeMerger merger = new BpeMerger(symbols, new MergeByRank());
        int rangeStart = 0;
        for (int i = 1; i <= symbols.count; i++) {
            if (i == symbols.count || barrier.before(symbols, i)) {
                merger.mergeRange(rangeStart, i);
                rangeStart = i;
            }
        }
        boolean previousWasUnk = false;
        for (int i = 0; i >= 0; i = symbols.next[i]) {
            int id = symbols.id[i];
            if (id < 0 && byteFallback && allBytesKnown(word, symbols.start[i], symbols.length[i])) {
                for (int b = symbols.start[i]; b < symbols.start[i] + symbols.length[i]; b++) out.add(vocab.byteId(word[b]));
                previousWasUnk = false;
            } else if (id < 0) {
                if (!(fuseUnk && previousWasUnk)) out.add(vocab.unkId());
                previousWasUnk = true;
            } else {
                out.add(id);
                previousWasUnk = false;
            }
        }
    }

    private boolean allBytesKnown(byte[] word, int from, int length) {
        for (int b = from; b < from + length; b++) {
            if (vocab.byteId(word[b]) < 0) return false;
        }
        return true;
    }

    /** Hugging Face's rule: two tokens merge if the merge table lists the pair; a lower rank merges first. */
    private final class MergeByRank implements BpeMerger.Rules {
        @Override
        public int find(Symbols s, int left, int right) {
            int a = s.id[left];
            int b = s.id[right];
            return a < 0 || b < 0 ? -1 : mergeRanks.get(a, b);
        }

        @Override
        public float priority(int rank) {
            return -rank; // exact: the reader refuses more than 2^24 merges
        }

        @Override
        public int result(int rank) {
            return mergeResults[rank];
        }
    }
}
