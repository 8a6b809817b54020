package org.paligemma4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes small SentencePiece ModelProto files for tests, with Gemma's settings unless told otherwise. */
final class ModelProtoWriter {
    private final ByteArrayOutputStream pieces = new ByteArrayOutputStream();
    private int modelType = 2; // BPE
    private boolean byteFallback = true;
    private boolean addDummyPrefix = false;
    private String normalizerName = "identity";

    /** The usual head: {@code <pad> <eos> <bos> <unk>} at ids 0..3. */
    static ModelProtoWriter gemmaLike() {
        return new ModelProtoWriter().piece("<pad>", 0, PieceType.CONTROL).piece("<eos>", 0, PieceType.CONTROL)
                .piece("<bos>", 0, PieceType.CONTROL).piece("<unk>", 0, PieceType.UNKNOWN);
    }

    /** Adds the 256 byte pieces. */
    ModelProtoWriter bytePieces() {
        for (int b = 0; b < 256; b++) piece(String.format("<0x%02X>", b), 0, PieceType.BYTE);
        return this;
    }

    ModelProtoWriter piece(String text, float score, PieceType type) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        bytesField(p, 1, text.getBytes(StandardCharsets.UTF_8));
        key(p, 2, 5);
        int bits = Float.floatToIntBits(score);
        for (int i = 0; i < 4; i++) p.write(bits >>> (8 * i));
        if (type != PieceType.NORMAL) {
            key(p, 3, 0);
            varint(p, type.protoValue);
        }
        bytesField(pieces, 1, p.toByteArray());
        return this;
    }

    ModelProtoWriter modelType(int type) {
        modelType = type;
        return this;
    }

    ModelProtoWriter byteFallback(boolean on) {
        byteFallback = on;
        return this;
    }

    ModelProtoWriter addDummyPrefix(boolean on) {
        addDummyPrefix = on;
        return this;
    }

    ModelProtoWriter normalizer(String name) {
        normalizerName = name;
        return this;
    }

    byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(pieces.toByteArray());
        ByteArrayOutputStream trainer = new ByteArrayOutputStream();
        key(trainer, 3, 0);
        varint(trainer, modelType);
        key(trainer, 35, 0);
        varint(trainer, byteFallback ? 1 : 0);
        bytesField(trainer, 45, "<unk>".getBytes(StandardCharsets.UTF_8));
        bytesField(trainer, 46, "<bos>".getBytes(StandardCharsets.UTF_8));
        bytesField(trainer, 47, "<eos>".getBytes(StandardCharsets.UTF_8));
        bytesField(trainer, 48, "<pad>".getBytes(StandardCharsets.UTF_8));
        bytesField(out, 2, trainer.toByteArray());
        ByteArrayOutputStream normalizer = new ByteArrayOutputStream();
        bytesField(normalizer, 1, normalizerName.getBytes(StandardCharsets.UTF_8));
        key(normalizer, 3, 0);
        varint(normalizer, addDummyPrefix ? 1 : 0);
        key(normalizer, 4, 0);
        varint(normalizer, 0);
        bytesField(out, 3, normalizer.toByteArray());
        return out.toByteArray();
    }

    Tokenizer load() throws TokenizerFormatException {
        return Tokenizer.fromSentencePieceModel(bytes(), "test.model");
    }

    static void key(ByteArrayOutputStream out, int field, int wireType) {
        varint(out, (long) field << 3 | wireType);
    }

    static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }

    static void bytesField(ByteArrayOutputStream out, int field, byte[] bytes) {
        key(out, field, 2);
        varint(out, bytes.length);
        out.writeBytes(bytes);
    }
}
