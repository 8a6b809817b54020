package org.paligemma4j.tokenizer;

import java.util.Arrays;

/**
 * Reads a SentencePiece {@code tokenizer.model} (a serialized {@code sentencepiece.ModelProto}) with a small
 * wire-format reader, keeping only what encoding and decoding need: the pieces with their scores and types,
 * the trainer settings that matter at run time and the normalizer settings. Settings this implementation does
 * not reproduce (other model types, a non-identity normalizer, a dummy prefix) are refused with a clear error
 * rather than tokenized differently from SentencePiece.
 */
final class SentencePieceModelReader {
    private SentencePieceModelReader() {}

    /** What a ModelProto holds, reduced to what tokenization uses. */
    record Model(byte[][] pieces, float[] scores, PieceType[] types, boolean byteFallback, boolean escapeWhitespaces,
                 String unkSurface, String unkPiece, String bosPiece, String eosPiece, String padPiece) {}

    // ModelProto / SentencePiece / TrainerSpec / NormalizerSpec field numbers (sentencepiece_model.proto).
    private static final int MODEL_PIECES = 1, MODEL_TRAINER_SPEC = 2, MODEL_NORMALIZER_SPEC = 3, MODEL_DENORMALIZER_SPEC = 5;
    private static final int PIECE_TEXT = 1, PIECE_SCORE = 2, PIECE_TYPE = 3;
    private static final int TRAINER_MODEL_TYPE = 3, TRAINER_TREAT_WHITESPACE_AS_SUFFIX = 24, TRAINER_BYTE_FALLBACK = 35,
            TRAINER_UNK_SURFACE = 44, TRAINER_UNK_PIECE = 45, TRAINER_BOS_PIECE = 46, TRAINER_EOS_PIECE = 47,
            TRAINER_PAD_PIECE = 48;
    private static final int NORMALIZER_NAME = 1, NORMALIZER_CHARSMAP = 2, NORMALIZER_ADD_DUMMY_PREFIX = 3,
            NORMALIZER_REMOVE_EXTRA_WHITESPACES = 4, NORMALIZER_ESCAPE_WHITESPACES = 5;
    private static final int MODEL_TYPE_BPE = 2;
    private static final String[] MODEL_TYPE_NAMES = {"?", "UNIGRAM", "BPE", "WORD", "CHAR"};

    static Model read(byte[] data, String source) throws TokenizerFormatException {
        if (data.length == 0) throw new TokenizerFormatException(source + ": file is empty");
        ProtoReader model = new ProtoReader(data, source, "ModelProto");
        int count = 0;
        byte[][] pieces = new byte[Math.max(16, data.length / 16)][];
        float[] scores = new float[pieces.length];
        PieceType[] types = new PieceType[pieces.length];
        Trainer trainer = new Trainer();
        Normalizer normalizer = new Normalizer();
        boolean sawTrainer = false;
        while (model.hasMore()) {
            int key = model.readKey();
            switch (ProtoReader.fieldNumber(key)) {
                case MODEL_PIECES -> {
                    model.expect(key, ProtoReader.LENGTH_DELIMITED, "pieces");
                    if (count == pieces.length) {
                        pieces = Arrays.copyOf(pieces, count * 2);
                        scores = Arrays.copyOf(scores, count * 2);
                        types = Arrays.copyOf(types, count * 2);
                    }
                    readPiece(model.readMessage("pieces", count), count, pieces, scores, types);
                    count++;
                }
                case MODEL_TRAINER_SPEC -> {
                    model.expect(key, ProtoReader.LENGTH_DELIMITED, "trainer_spec");
                    readTrainer(model.readMessage("trainer_spec"), trainer);
                    sawTrainer = true;
                }
                case MODEL_NORMALIZER_SPEC -> {
                    model.expect(key, ProtoReader.LENGTH_DELIMITED, "normalizer_spec");
                    readNormalizer(model.readMessage("normalizer_spec"), normalizer);
                }
                case MODEL_DENORMALIZER_SPEC -> {
                    model.expect(key, ProtoReader.LENGTH_DELIMITED, "denormalizer_spec");
                    Normalizer denormalizer = new Normalizer();
                    readNormalizer(model.readMessage("denormalizer_spec"), denormalizer);
                    if (denormalizer.charsmapLength > 0) {
                        throw new TokenizerFormatException(source + ": a denormalizer (decode-time rewriting) is not supported");
                    }
                }
                default -> model.skip(key);
            }
        }
        if (count == 0) throw new TokenizerFormatException(source + ": no pieces: not a SentencePiece model");
        if (!sawTrainer) throw new TokenizerFormatException(source + ": no trainer_spec: not a SentencePiece model");
        checkSupported(trainer, normalizer, source);
        pieces = Arrays.copyOf(pieces, count);
        scores = Arrays.copyOf(scores, count);
        types = Arrays.copyOf(types, count);
        for (int id = 0; id < count; id++) {
            if (types[id] == PieceType.BYTE && !trainer.byteFallback) {
                throw new TokenizerFormatException(source + ": byte piece " + id + " is present although byte_fallback is false");
            }
        }
        return new Model(pieces, scores, types, trainer.byteFallback, normalizer.escapeWhitespaces, trainer.unkSurface,
                trainer.unkPiece, trainer.bosPiece, trainer.eosPiece, trainer.padPiece);
    }

    private static void readPiece(ProtoReader r, int id, byte[][] pieces, float[] scores, PieceType[] types)
            throws TokenizerFormatException {
        byte[] text = null;
        float score = 0f;
        PieceType type = PieceType.NORMAL;
        while (r.hasMore()) {
            int key = r.readKey();
            switch (ProtoReader.fieldNumber(key)) {
                case PIECE_TEXT -> {
                    r.expect(key, ProtoReader.LENGTH_DELIMITED, "piece");
                    text = r.readBytes("piece");
                    if (!Utf8.isValid(text, 0, text.length)) throw r.error("piece " + id + " is not valid UTF-8");
                }
                case PIECE_SCORE -> {
                    r.expect(key, ProtoReader.FIXED32, "score");
                    score = r.readFloat("score");
                }
                case PIECE_TYPE -> {
                    r.expect(key, ProtoReader.VARINT, "type");
                    long v = r.readVarint("type");
                    type = PieceType.fromProto(v);
                    if (type == null) throw r.error("piece " + id + " has unknown type " + v);
                }
                default -> r.skip(key);
            }
        }
        if (text == null || text.length == 0) throw r.error("piece " + id + " is empty");
        pieces[id] = text;
        scores[id] = score;
        types[id] = type;
    }

    private static final class Trainer {
        int modelType = 1; // proto default UNIGRAM
        boolean byteFallback;
        boolean treatWhitespaceAsSuffix;
        String unkSurface = " \u2047 ";
        String unkPiece = "<unk>";
        String bosPiece = "<s>";
        String eosPiece = "</s>";
        String padPiece = "<pad>";
    }

    private static void readTrainer(ProtoReader r, Trainer t) throws TokenizerFormatException {
        while (r.hasMore()) {
            int key = r.readKey();
            switch (ProtoReader.fieldNumber(key)) {
                case TRAINER_MODEL_TYPE -> {
                    r.expect(key, ProtoReader.VARINT, "model_type");
                    t.modelType = r.readInt32("model_type");
                }
                case TRAINER_TREAT_WHITESPACE_AS_SUFFIX -> {
                    r.expect(key, ProtoReader.VARINT, "treat_whitespace_as_suffix");
                    t.treatWhitespaceAsSuffix = r.readBool("treat_whitespace_as_suffix");
                }
                case TRAINER_BYTE_FALLBACK -> {
                    r.expect(key, ProtoReader.VARINT, "byte_fallback");
                    t.byteFallback = r.readBool("byte_fallback");
                }
                case TRAINER_UNK_SURFACE -> {
                    r.expect(key, ProtoReader.LENGTH_DELIMITED, "unk_surface");
                    t.unkSurface = r.readString("unk_surface");
                }
                case TRAINER_UNK_PIECE -> {
                    r.expect(key, ProtoReader.LENGTH_DELIMITED, "unk_piece");
                    t.unkPiece = r.readString("unk_piece");
                }
                case TRAINER_BOS_PIECE -> {
                    r.expect(key, ProtoReader.LENGTH_DELIMITED, "bos_piece");
                    t.bosPiece = r.readString("bos_piece");
                }
                case TRAINER_EOS_PIECE -> {
                    r.expect(key, ProtoReader.LENGTH_DELIMITED, "eos_piece");
                    t.eosPiece = r.readString("eos_piece");
                }
                case TRAINER_PAD_PIECE -> {
                    r.expect(key, ProtoReader.LENGTH_DELIMITED, "pad_piece");
                    t.padPiece = r.readString("pad_piece");
                }
                default -> r.skip(key);
            }
        }
    }

    private static final class Normalizer {
        String name = "";
        int charsmapLength;
        boolean addDummyPrefix = true; // proto defaults
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;
    }

    private static void readNormalizer(ProtoReader r, Normalizer n) throws TokenizerFormatException {
        while (r.hasMore()) {
            int key = r.readKey();
            switch (ProtoReader.fieldNumber(key)) {
                case NORMALIZER_NAME -> {
                    r.expect(key, ProtoReader.LENGTH_DELIMITED, "name");
                    n.name = r.readString("normalizer name");
                }
                case NORMALIZER_CHARSMAP -> {
                    r.expect(key, ProtoReader.LENGTH_DELIMITED, "precompiled_charsmap");
                    n.charsmapLength = r.readBytes("precompiled_charsmap").length;
                }
                case NORMALIZER_ADD_DUMMY_PREFIX -> {
                    r.expect(key, ProtoReader.VARINT, "add_dummy_prefix");
                    n.addDummyPrefix = r.readBool("add_dummy_prefix");
                }
                case NORMALIZER_REMOVE_EXTRA_WHITESPACES -> {
                    r.expect(key, ProtoReader.VARINT, "remove_extra_whitespaces");
                    n.removeExtraWhitespaces = r.readBool("remove_extra_whitespaces");
                }
                case NORMALIZER_ESCAPE_WHITESPACES -> {
                    r.expect(key, ProtoReader.VARINT, "escape_whitespaces");
                    n.escapeWhitespaces = r.readBool("escape_whitespaces");
                }
                default -> r.skip(key);
            }
        }
    }

    /** Refuses settings whose SentencePiece behaviour this encoder does not reproduce. */
    private static void checkSupported(Trainer t, Normalizer n, String source) throws TokenizerFormatException {
        if (t.modelType != MODEL_TYPE_BPE) {
            String name = t.modelType >= 0 && t.modelType < MODEL_TYPE_NAMES.length ? MODEL_TYPE_NAMES[t.modelType] : "#" + t.modelType;
            throw new TokenizerFormatException(source + ": model_type " + name
                    + " is not supported; only BPE models (Gemma, PaliGemma) are");
        }
        if (n.charsmapLength > 0 || !(n.name.isEmpty() || n.name.equals("identity"))) {
            throw new TokenizerFormatException(source + ": normalizer '" + n.name
                    + "' is not supported; only the identity normalizer (Gemma, PaliGemma) is");
        }
        if (n.addDummyPrefix) {
            throw new TokenizerFormatException(source + ": add_dummy_prefix=true is not supported (Gemma uses false)");
        }
        if (n.removeExtraWhitespaces) {
            throw new TokenizerFormatException(source + ": remove_extra_whitespaces=true is not supported (Gemma uses false)");
        }
        if (t.treatWhitespaceAsSuffix) {
            throw new TokenizerFormatException(source + ": treat_whitespace_as_suffix=true is not supported (Gemma uses false)");
        }
    }
}
