package org.paligemma4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

/** The pieces of a tokenizer by id: their text, type and score, and lookups from bytes to id. */
final class Vocabulary {
    private final String[] pieces;
    private final PieceType[] types;
    private final float[] scores;
    private final PieceIndex index;
    private final int[] byteIds = new int[256];
    private final int unkId;

    /**
     * @param utf8 the pieces' UTF-8 bytes (validated by the caller)
     * @param source file name for error messages
     */
    Vocabulary(byte[][] utf8, float[] scores, PieceType[] types, String source) throws TokenizerFormatException {
        int n = utf8.length;
        this.pieces = new String[n];
        this.types = types;
        this.scores = scores;
        Arrays.fill(byteIds, -1);
        int unk = -1;
        for (int id = 0; id < n; id++) {
            if (utf8[id].length == 0) {
                throw new TokenizerFormatException(source + ": piece " + id + " is empty");
            }
            pieces[id] = new String(utf8[id], StandardCharsets.UTF_8);
            if (types[id] == PieceType.UNKNOWN) {
                if (unk >= 0) {
                    throw new TokenizerFormatException(source + ": two unknown pieces, ids " + unk + " and " + id);
                }
                unk = id;
            } else if (types[id] == PieceType.BYTE) {
                int b = byteValue(pieces[id]);
                if (b < 0) {
                    throw new TokenizerFormatException(source + ": piece " + id + " '" + pieces[id]
                            + "' has type BYTE but is not of the form <0xXX>");
                }
                byteIds[b] = id;
            }
        }
        this.unkId = unk;
        this.index = new PieceIndex(utf8);
        if (index.duplicateId() >= 0) {
            throw new TokenizerFormatException(source + ": piece '" + pieces[index.duplicateId()] + "' is defined twice, ids "
                    + index.duplicateOf() + " and " + index.duplicateId());
        }
    }

    /** The byte a piece named {@code <0xXX>} (upper-case hex, as SentencePiece writes it) stands for, or -1. */
    static int byteValue(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') return -1;
        String hex = piece.substring(3, 5);
        if (!hex.equals(hex.toUpperCase(Locale.ROOT)) || !HexFormat.isHexDigit(hex.charAt(0))
                || !HexFormat.isHexDigit(hex.charAt(1))) {
            return -1;
        }
        return HexFormat.fromHexDigits(hex);
    }

    int size() {
        return pieces.length;
    }

    String piece(int id) {
        return pieces[id];
    }

    PieceType type(int id) {
        return types[id];
    }

    float score(int id) {
        return scores[id];
    }

    PieceIndex index() {
        return index;
    }

    /** Id of the piece with exactly this text, or -1. */
    int idOf(String piece) {
        byte[] b = piece.getBytes(StandardCharsets.UTF_8);
        return index.find(b, 0, b.length);
    }

    /** Id of the {@code <0xXX>} piece for a byte, or -1. */
    int byteId(int b) {
        return byteIds[b & 0xFF];
    }

    int unkId() {
        return unkId;
    }

    /** Whether any piece has the given type. */
    boolean has(PieceType type) {
        for (PieceType t : types) {
            if (t == type) return true;
        }
        return false;
    }
}
