package org.paligemma4j.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * PaliGemma's tokenizer: Gemma's SentencePiece BPE vocabulary (256,000 pieces with byte fallback) plus
 * 1024 {@code <locNNNN>} and 128 {@code <segNNN>} pieces and the added {@code <image>} token.
 *
 * <p>{@link #encode} reproduces {@code SentencePieceProcessor.encode(text)} exactly and adds no BOS/EOS: a
 * PaliGemma prompt is {@code <image>}×N, {@code <bos>}, then {@code encode(prompt + "\n")}, with the special ids
 * inserted as ids, never as text. A tokenizer loaded from a Hugging Face {@code tokenizer.json} encodes as that
 * file's BPE model does, which also matches control tokens such as {@code <bos>} written in the text.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Tokenizer {
    private static final int LOC_TOKENS = 1024;
    private static final int SEG_TOKENS = 128;

    private final Vocabulary vocab;
    private final TextEncoder encoder;
    private final String unkSurface;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int imageTokenId;
    private final int[] locIds = new int[LOC_TOKENS];
    private final int[] segIds = new int[SEG_TOKENS];
    private final String description;

    Tokenizer(Vocabulary vocab, TextEncoder encoder, String unkSurface, int bosId, int eosId, int padId, String description) {
        this.vocab = vocab;
        this.encoder = encoder;
        this.unkSurface = unkSurface;
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
        this.imageTokenId = vocab.idOf("<image>");
        this.description = description;
        Arrays.fill(locIds, -1);
        Arrays.fill(segIds, -1);
        for (int id = 0; id < vocab.size(); id++) {
            String p = vocab.piece(id);
            int loc = numberedToken(p, "<loc", 4);
            if (loc >= 0 && loc < LOC_TOKENS) locIds[loc] = id;
            int seg = numberedToken(p, "<seg", 3);
            if (seg >= 0 && seg < SEG_TOKENS) segIds[seg] = id;
        }
    }

    /**
     * Loads a tokenizer from a model directory ({@code tokenizer.model}, else {@code tokenizer.json}) or from a
     * file: a SentencePiece {@code .model}, or a Hugging Face {@code .json} / {@code .json.gz}. The format is
     * recognised from the content. Added tokens in {@code added_tokens.json} / {@code tokenizer_config.json}
     * beside the model (PaliGemma's {@code <image>}) join the vocabulary.
     *
     * @throws TokenizerFormatException if the file is corrupt or uses unsupported settings (the message names
     *     the file and, for .model files, the byte offset)
     */
    public static Tokenizer load(Path modelDirOrFile) throws IOException {
        return TokenizerLoader.load(modelDirOrFile);
    }

    /** Reads a SentencePiece model from memory; {@code sourceName} is used in error messages. */
    public static Tokenizer fromSentencePieceModel(byte[] modelProto, String sourceName) throws TokenizerFormatException {
        return TokenizerLoader.fromSentencePiece(modelProto, Map.of(), sourceName);
    }

    /** Token ids of {@code text}, without BOS or EOS. Never throws: lone surrogates are encoded as '?'. */
    public int[] encode(String text) {
        return encoder.encode(text);
    }

    /** The pieces of {@code encode(text)}, e.g. {@code ["▁Hello", "<0xF0>", ...]}. */
    public List<String> encodeToPieces(String text) {
        int[] ids = encode(text);
        List<String> pieces = new ArrayList<>(ids.length);
        for (int id : ids) pieces.add(vocab.piece(id));
        return pieces;
    }

    /**
     * Text of {@code ids} as SentencePiece decodes it: control tokens vanish, {@code <unk>} reads " ⁇ ", runs of
     * byte pieces are read as UTF-8 with one U+FFFD per invalid byte. Ids past the vocabulary (a checkpoint's
     * padding rows) vanish like control tokens.
     *
     * @throws IllegalArgumentException for a negative id
     */
    public String decode(int[] ids) {
        StreamingDecoder decoder = newStreamingDecoder();
        StringBuilder out = new StringBuilder(ids.length * 4);
        for (int id : ids) decoder.accept(id, out);
        decoder.flush(out);
        return out.toString();
    }

    /** A decoder for generated ids that returns text as soon as it is complete, never half a character. */
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(vocab, unkSurface);
    }

    /** Number of ids: the model's pieces plus added tokens such as {@code <image>}. */
    public int vocabSize() {
        return vocab.size();
    }

    /** The piece of an id, e.g. {@code "▁world"}, {@code "<0x0A>"}, {@code "<loc0512>"}. */
    public String pieceOf(int id) {
        checkId(id);
        return vocab.piece(id);
    }

    public PieceType pieceType(int id) {
        checkId(id);
        return vocab.type(id);
    }

    /** The id of a piece, or -1 if there is no such piece. */
    public int idOf(String piece) {
        return vocab.idOf(piece);
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public int unkId() {
        return vocab.unkId();
    }

    /** Id of {@code <image>}, or -1 when neither the model nor the checkpoint's added tokens define it. */
    public int imageTokenId() {
        return imageTokenId;
    }

    /** Id of {@code <locNNNN>} for a location bin 0..1023 (a box coordinate: bin/1024 of the image side). */
    public int locId(int bin) {
        return numberedId(locIds, bin, "<loc%04d>");
    }

    /** Id of {@code <segNNN>} for a segmentation codebook entry 0..127. */
    public int segId(int code) {
        return numberedId(segIds, code, "<seg%03d>");
    }

    /** The bin of a {@code <locNNNN>} id, or -1 if the id is not a location token. */
    public int locValue(int id) {
        return valueOf(locIds, id);
    }

    /** The code of a {@code <segNNN>} id, or -1 if the id is not a segmentation token. */
    public int segValue(int id) {
        return valueOf(segIds, id);
    }

    TextEncoder encoder() {
        return encoder;
    }

    @Override
    public String toString() {
        return "Tokenizer[" + description + ", " + vocab.size() + " ids]";
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (vocab.size() - 1) + ")");
        }
    }

    private static int numberedId(int[] ids, int n, String format) {
        if (n < 0 || n >= ids.length || ids[n] < 0) {
            throw new IllegalArgumentException("this tokenizer has no " + (n >= 0 ? String.format(format, n) : "token number " + n)
                    + " (PaliGemma has <loc0000>..<loc1023> and <seg000>..<seg127>)");
        }
        return ids[n];
    }

    private int valueOf(int[] ids, int id) {
        if (id < 0 || id >= vocab.size()) return -1;
        String piece = vocab.piece(id);
        int n = ids == locIds ? numberedToken(piece, "<loc", 4) : numberedToken(piece, "<seg", 3);
        return n >= 0 && n < ids.length && ids[n] == id ? n : -1;
    }

    /** The number in a piece such as {@code <loc0123>} (prefix "<loc", exactly {@code digits} ASCII digits), or -1. */
    private static int numberedToken(String piece, String prefix, int digits) {
        if (piece.length() != prefix.length() + digits + 1 || !piece.startsWith(prefix) || piece.charAt(piece.length() - 1) != '>') {
            return -1;
        }
        int n = 0;
        for (int i = prefix.length(); i < prefix.length() + digits; i++) {
            char c = piece.charAt(i);
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
