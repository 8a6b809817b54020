package org.paligemma4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the protobuf wire format from a byte array. Every declared length is checked against the bytes that
 * remain before anything is allocated, so a truncated or bit-flipped file fails with a message naming the file,
 * the field and the byte offset instead of an exception from deep inside, or an attempt to allocate gigabytes.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final byte[] data;
    private final String source;
    private final String message;
    private final int messageIndex; // >= 0 for an element of a repeated field: "pieces[17]"
    private final int end;
    private int pos;
    private int keyOffset;

    ProtoReader(byte[] data, String source, String message) {
        this(data, 0, data.length, source, message, -1);
    }

    private ProtoReader(byte[] data, int start, int end, String source, String message, int messageIndex) {
        this.data = data;
        this.pos = start;
        this.end = end;
        this.source = source;
        this.message = message;
        this.messageIndex = messageIndex;
        this.keyOffset = start;
    }

    boolean hasMore() {
        return pos < end;
    }

    /** Reads the next field key: {@code fieldNumber << 3 | wireType}. */
    int readKey() throws TokenizerFormatException {
        keyOffset = pos;
        long key = readVarint("field key");
        long field = key >>> 3;
        int wireType = (int) (key & 7);
        if (field == 0 || field > 0x1FFF_FFFFL) {
            throw error("invalid field number " + field);
        }
        if (wireType != VARINT && wireType != FIXED64 && wireType != LENGTH_DELIMITED && wireType != FIXED32) {
            // 3 and 4 are the deprecated groups, 6 and 7 do not exist; SentencePiece models use neither.
            throw error("field " + field + " has unsupported wire type " + wireType);
        }
        return (int) key;
    }

    static int fieldNumber(int key) {
        return key >>> 3;
    }

    static int wireType(int key) {
        return key & 7;
    }

    /** Fails unless the field just read has the wire type its schema declares. */
    void expect(int key, int wireType, String fieldName) throws TokenizerFormatException {
        if (wireType(key) != wireType) {
            throw error("field " + fieldNumber(key) + " (" + fieldName + ") has wire type " + wireType(key)
                    + ", expected " + wireType);
        }
    }

    long readVarint(String what) throws TokenizerFormatException {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw error(what + ": varint runs past the end at byte " + pos);
            }
            byte b = data[pos++];
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) return result;
        }
        throw error(what + ": varint longer than 10 bytes at byte " + pos);
    }

    int readInt32(String what) throws TokenizerFormatException {
        return (int) readVarint(what); // negative int32 values are sign-extended to 64 bits on the wire
    }

    boolean readBool(String what) throws TokenizerFormatException {
        return readVarint(what) != 0;
    }

    float readFloat(String what) throws TokenizerFormatException {
        need(4, what);
        int bits = (data[pos] & 0xFF) | (data[pos + 1] & 0xFF) << 8 | (data[pos + 2] & 0xFF) << 16 | (data[pos + 3] & 0xFF) << 24;
        pos += 4;
        return Float.intBitsToFloat(bits);
    }

    /** Reads a length-delimited field as a nested message. */
    ProtoReader readMessage(String name) throws TokenizerFormatException {
        return readMessage(name, -1);
    }

    /** As {@link #readMessage(String)} for element {@code index} of a repeated field (the name is built only for errors). */
    ProtoReader readMessage(String name, int index) throws TokenizerFormatException {
        int length = readLength(name, index);
        ProtoReader nested = new ProtoReader(data, pos, pos + length, source, name, index);
        pos += length;
        return nested;
    }

    byte[] readBytes(String what) throws TokenizerFormatException {
        int length = readLength(what);
        byte[] out = Arrays.copyOfRange(data, pos, pos + length);
        pos += length;
        return out;
    }

    /** Reads a string field, which protobuf requires to be UTF-8. */
    String readString(String what) throws TokenizerFormatException {
        byte[] bytes = readBytes(what);
        if (!Utf8.isValid(bytes, 0, bytes.length)) {
            throw error(what + " is not valid UTF-8");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Skips a field of any supported wire type. */
    void skip(int key) throws TokenizerFormatException {
        switch (wireType(key)) {
            case VARINT -> readVarint("field " + fieldNumber(key));
            case FIXED64 -> {
                need(8, "field " + fieldNumber(key));
                pos += 8;
            }
            case FIXED32 -> {
                need(4, "field " + fieldNumber(key));
                pos += 4;
            }
            case LENGTH_DELIMITED -> {
                int length = readLength("field " + fieldNumber(key)); // read before pos: pos += f() would add to the old pos
                pos += length;
            }
            default -> throw error("cannot skip wire type " + wireType(key));
        }
    }

    /** An error at the current field, naming the file, the message being read and the byte offset. */
    TokenizerFormatException error(String problem) {
        String where = messageIndex >= 0 ? message + "[" + messageIndex + "]" : message;
        return new TokenizerFormatException(source + ": byte " + keyOffset + " in " + where + ": " + problem
                + " (file truncated or corrupt?)");
    }

    private int readLength(String what) throws TokenizerFormatException {
        return readLength(what, -1);
    }

    private int readLength(String name, int index) throws TokenizerFormatException {
        long length = readVarint("length");
        int remaining = end - pos;
        if (length < 0 || length > remaining) {
            String what = index >= 0 ? name + "[" + index + "]" : name;
            throw error(what + " declares " + Long.toUnsignedString(length) + " bytes but only " + remaining
                    + " remain");
        }
        return (int) length;
    }

    private void need(int bytes, String what) throws TokenizerFormatException {
        if (end - pos < bytes) {
            throw error(what + " needs " + bytes + " bytes but only " + (end - pos) + " remain");
        }
    }
}
