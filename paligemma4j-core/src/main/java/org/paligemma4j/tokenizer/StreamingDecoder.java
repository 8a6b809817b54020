package org.paligemma4j.tokenizer;

/**
 * Decodes ids one at a time, for printing text while it is generated. Byte pieces ({@code <0xXX>}) are held
 * back until they form a whole UTF-8 character, so no call ever returns half a character; bytes that cannot
 * become one turn into one U+FFFD each. The texts returned by {@link #accept} followed by {@link #flush}
 * always join to exactly {@link Tokenizer#decode} of the same ids.
 *
 * <p>Decoding follows SentencePiece: CONTROL pieces (and ids past the vocabulary, such as a checkpoint's
 * padding rows) are invisible, {@code <unk>} reads " ⁇ ", ▁ reads as a space. Not thread-safe; use one per stream.
 */
public final class StreamingDecoder {
    private static final String REPLACEMENT = "\uFFFD";

    private final Vocabulary vocab;
    private final String unkSurface;
    private final byte[] pending = new byte[4];
    private int pendingCount;

    StreamingDecoder(Vocabulary vocab, String unkSurface) {
        this.vocab = vocab;
        this.unkSurface = unkSurface;
    }

    /** Takes the next id and returns the text it completes (often "", e.g. for the first byte of a character). */
    public String accept(int id) {
        StringBuilder out = new StringBuilder();
        accept(id, out);
        return out.toString();
    }

    /** Ends the stream: returns what the held-back bytes decode to (U+FFFD per byte) and resets the decoder. */
    public String flush() {
        StringBuilder out = new StringBuilder();
        flush(out);
        return out.toString();
    }

    void accept(int id, StringBuilder out) {
        if (id < 0) throw new IllegalArgumentException("negative token id " + id);
        if (id < vocab.size() && vocab.type(id) == PieceType.BYTE) {
            pending[pendingCount++] = (byte) Vocabulary.byteValue(vocab.piece(id));
            drain(out, false);
            return;
        }
        // Any other piece ends the byte run, as in SentencePiece (a control id between bytes splits them).
        flush(out);
        if (id >= vocab.size()) return;
        switch (vocab.type(id)) {
            case CONTROL -> { }
            case UNKNOWN -> out.append(unkSurface);
            default -> out.append(vocab.piece(id).replace('\u2581', ' '));
        }
    }

    void flush(StringBuilder out) {
        drain(out, true);
    }

    /**
     * Emits every character the pending bytes already determine. With {@code runEnded} the run is complete,
     * so a sequence still missing bytes is invalid and its lead byte becomes U+FFFD.
     */
    private void drain(StringBuilder out, boolean runEnded) {
        while (pendingCount > 0) {
            int need = Utf8.sequenceLength(pending[0]);
            int consumed;
            if (need == 0) {
                out.append(REPLACEMENT);
                consumed = 1;
            } else if (pendingCount < need) {
                if (!runEnded && allTrail(1, pendingCount)) return; // wait for the rest of the character
                out.append(REPLACEMENT);
                consumed = 1;
            } else {
                int cp = Utf8.decode(pending, 0, need);
                if (cp >= 0) {
                    out.appendCodePoint(cp);
                    consumed = need;
                } else {
                    out.append(REPLACEMENT);
                    consumed = 1;
                }
            }
            System.arraycopy(pending, consumed, pending, 0, pendingCount - consumed);
            pendingCount -= consumed;
        }
    }

    private boolean allTrail(int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Utf8.isTrail(pending[i])) return false;
        }
        return true;
    }
}
