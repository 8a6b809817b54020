package org.paligemma4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a small SentencePiece BPE {@code tokenizer.model} (a serialized {@code sentencepiece.ModelProto}) with
 * PaliGemma's layout and Gemma's settings, for a model trained from scratch on a known vocabulary:
 *
 * <pre>
 * 0..3    &lt;pad&gt; &lt;eos&gt; &lt;bos&gt; (CONTROL) &lt;unk&gt; (UNKNOWN)
 * 4..259  &lt;0x00&gt;..&lt;0xFF&gt; (BYTE: byte fallback, so any text encodes)
 * 260..   single characters, then the merges that build every given word (NORMAL, score -rank)
 * then    &lt;loc0000&gt;..&lt;loc1023&gt;, &lt;seg000&gt;..&lt;seg127&gt; (USER_DEFINED)
 * </pre>
 *
 * {@code <image>} is not a piece: it is the added token right after the last piece, as in PaliGemma. The merges
 * are found the way BPE training would record them: a word that the pieces so far leave in several symbols
 * gets the concatenation of its first two symbols as the next (lowest-scoring) piece, until it is one symbol.
 * A merge of lower score never changes how earlier words encode (BPE always takes the highest-scoring pair
 * first), so every given word, and the word with a leading {@code ▁} (a space), is a single piece.
 * Settings: identity normalizer, no dummy prefix, no whitespace collapsing, spaces escaped as {@code ▁}.
 */
public final class SentencePieceModelWriter {
    private SentencePieceModelWriter() {}

    public static final int LOCATION_TOKENS = 1024;
    public static final int SEGMENTATION_TOKENS = 128;
    private static final String SPACE = "\u2581";

    /**
     * A written model.
     *
     * @param pieces every piece by id
     * @param firstLocation id of {@code <loc0000>}; {@code <seg000>} follows {@code <loc1023>}
     */
    public record Model(byte[] bytes, List<String> pieces, int firstLocation, int firstSegmentation) {
        /** The id {@code <image>} gets as an added token: one past the last piece. */
        public int imageTokenId() {
            return pieces.size();
        }
    }

    /**
     * @param words words to make single pieces (with and without a leading space)
     * @param characters every character the texts use (others fall back to bytes); a space stands for {@code ▁}
     */
    public static Model write(List<String> words, String characters) {
        List<String> pieces = new ArrayList<>(List.of("<pad>", "<eos>", "<bos>", "<unk>"));
        List<Integer> types = new ArrayList<>(List.of(3, 3, 3, 2));
        for (int b = 0; b < 256; b++) {
            pieces.add(String.format("<0x%02X>", b));
            types.add(6);
        }
        // NORMAL pieces in rank order: BPE's score of piece k is -k (rank 0 merges first).
        Set<String> normal = new LinkedHashSet<>();
        characters.replace(" ", SPACE).codePoints().forEach(cp -> normal.add(new String(Character.toChars(cp))));
        normal.add(SPACE);
        Map<String, Integer> rank = new HashMap<>();
        for (String s : normal) rank.put(s, rank.size());
        for (String word : words) {
            for (String w : List.of(word, SPACE + word.replace(" ", SPACE))) {
                w = w.replace(" ", SPACE);
                w.codePoints().forEach(cp -> {
                    String c = new String(Character.toChars(cp));
                    if (!rank.containsKey(c)) {
                        throw new IllegalArgumentException("word '" + word + "' uses '" + c + "', which is not among the characters");
                    }
                });
                for (List<String> symbols = bpe(w, rank); symbols.size() > 1; symbols = bpe(w, rank)) {
                    String merged = symbols.get(0) + symbols.get(1);
                    rank.put(merged, rank.size());
                    normal.add(merged);
                }
            }
        }
        for (String s : normal) {
            pieces.add(s);
            types.add(1);
        }
        int firstLocation = pieces.size();
        for (int i = 0; i < LOCATION_TOKENS; i++) {
            pieces.add(String.format("<loc%04d>", i));
            types.add(4);
        }
        int firstSegmentation = pieces.size();
        for (int i = 0; i < SEGMENTATION_TOKENS; i++) {
            pieces.add(String.format("<seg%03d>", i));
            types.add(4);
        }
        return new Model(serialize(pieces, types, rank), List.copyOf(pieces), firstLocation, firstSegmentation);
    }

    /** SentencePiece's BPE on one word: merge the adjacent pair that forms the highest-ranked piece, leftmost first. */
    private static List<String> bpe(String word, Map<String, Integer> rank) {
        List<String> symbols = new ArrayList<>();
        word.codePoints().forEach(cp -> symbols.add(new String(Character.toChars(cp))));
        while (true) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer r = rank.get(symbols.get(i) + symbols.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) return symbols;
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
    }

    private static byte[] serialize(List<String> pieces, List<Integer> types, Map<String, Integer> rank) {
        Proto model = new Proto();
        for (int id = 0; id < pieces.size(); id++) {
            Proto piece = new Proto();
            piece.string(1, pieces.get(id));
            float score = types.get(id) == 1 ? -rank.get(pieces.get(id)) : 0f;
            piece.fixed32(2, Float.floatToIntBits(score));
            piece.varint(3, types.get(id));
            model.message(1, piece);
        }
        Proto trainer = new Proto();
        trainer.varint(3, 2); // model_type BPE
        trainer.varint(4, pieces.size()); // vocab_size
        trainer.varint(35, 1); // byte_fallback
        trainer.varint(40, 3); // unk_id
        trainer.varint(41, 2); // bos_id
        trainer.varint(42, 1); // eos_id
        trainer.varint(43, 0); // pad_id
        trainer.string(44, " \u2047 "); // unk_surface
        trainer.string(45, "<unk>");
        trainer.string(46, "<bos>");
        trainer.string(47, "<eos>");
        trainer.string(48, "<pad>");
        model.message(2, trainer);
        Proto normalizer = new Proto();
        normalizer.string(1, "identity");
        normalizer.varint(3, 0); // add_dummy_prefix
        normalizer.varint(4, 0); // remove_extra_whitespaces
        normalizer.varint(5, 1); // escape_whitespaces
        model.message(3, normalizer);
        return model.bytes();
    }

    /** Protocol-buffer wire format, just the field kinds a ModelProto needs. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        void varint(int field, long value) {
            key(field, 0);
            raw(value);
        }

        void fixed32(int field, int bits) {
            key(field, 5);
            for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i) & 0xFF);
        }

        void string(int field, String s) {
            bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        void message(int field, Proto m) {
            bytes(field, m.bytes());
        }

        private void bytes(int field, byte[] b) {
            key(field, 2);
            raw(b.length);
            out.writeBytes(b);
        }

        private void key(int field, int wireType) {
            raw((long) field << 3 | wireType);
        }

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) (v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.write((int) v);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
