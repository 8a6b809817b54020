package org.paligemma4j.tokenizer;

/** The kind of a vocabulary entry, as SentencePiece's {@code ModelProto.SentencePiece.Type} defines it. */
public enum PieceType {
    /** A subword learned by BPE. */
    NORMAL(1),
    /** The unknown piece {@code <unk>}; decodes to " ⁇ ". Never produced from text when byte fallback is on. */
    UNKNOWN(2),
    /** An invisible control token ({@code <bos> <eos> <pad>}, PaliGemma's {@code <image>}): never matched in text, decodes to "". */
    CONTROL(3),
    /** A string kept whole wherever it starts in the text (longest match first) and never merged further. */
    USER_DEFINED(4),
    /** A piece the model must not emit: BPE splits it back into the pair that formed it. */
    UNUSED(5),
    /** One raw byte {@code <0xXX>}, emitted for characters that no piece covers. */
    BYTE(6);

    /** The enum number in the protobuf. */
    final int protoValue;

    PieceType(int protoValue) {
        this.protoValue = protoValue;
    }

    /** The type with this protobuf number, or null if there is none. */
    static PieceType fromProto(long value) {
        for (PieceType t : values()) {
            if (t.protoValue == value) return t;
        }
        return null;
    }

    /** Whether BPE may produce this piece by merging (SentencePiece keeps these in its "pieces" map). */
    boolean isMergeable() {
        return this == NORMAL || this == USER_DEFINED || this == UNUSED;
    }
}
