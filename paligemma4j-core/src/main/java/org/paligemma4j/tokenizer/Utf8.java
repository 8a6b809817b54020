package org.paligemma4j.tokenizer;

/**
 * UTF-8 rules exactly as SentencePiece applies them: a sequence is valid only if its lead byte announces its
 * length, every trail byte is 10xxxxxx, it is not overlong and it is not a surrogate or above U+10FFFF.
 */
final class Utf8 {
    private Utf8() {}

    /** Length a lead byte announces (1 to 4), or 0 if the byte cannot start a sequence. */
    static int sequenceLength(byte lead) {
        int b = lead & 0xFF;
        if (b < 0x80) return 1;
        if ((b & 0xE0) == 0xC0) return 2;
        if ((b & 0xF0) == 0xE0) return 3;
        if ((b & 0xF8) == 0xF0) return 4;
        return 0;
    }

    static boolean isTrail(byte b) {
        return (b & 0xC0) == 0x80;
    }

    /**
     * The code point of the complete sequence of {@code length} bytes at {@code offset}, or -1 if it is invalid.
     * The caller has checked that {@code length == sequenceLength(bytes[offset])} bytes are available.
     */
    static int decode(byte[] bytes, int offset, int length) {
        int b0 = bytes[offset] & 0xFF;
        switch (length) {
            case 1:
                return b0;
            case 2: {
                if (!isTrail(bytes[offset + 1])) return -1;
                int cp = (b0 & 0x1F) << 6 | (bytes[offset + 1] & 0x3F);
                return cp >= 0x80 ? cp : -1;
            }
            case 3: {
                if (!isTrail(bytes[offset + 1]) || !isTrail(bytes[offset + 2])) return -1;
                int cp = (b0 & 0x0F) << 12 | (bytes[offset + 1] & 0x3F) << 6 | (bytes[offset + 2] & 0x3F);
                return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF) ? cp : -1;
            }
            case 4: {
                if (!isTrail(bytes[offset + 1]) || !isTrail(bytes[offset + 2]) || !isTrail(bytes[offset + 3])) return -1;
                int cp = (b0 & 0x07) << 18 | (bytes[offset + 1] & 0x3F) << 12 | (bytes[offset + 2] & 0x3F) << 6
                        | (bytes[offset + 3] & 0x3F);
                return cp >= 0x10000 && cp <= 0x10FFFF ? cp : -1;
            }
            default:
                return -1;
        }
    }

    /** Whether the range is entirely well-formed UTF-8. */
    static boolean isValid(byte[] bytes, int from, int to) {
        int i = from;
        while (i < to) {
            if (bytes[i] >= 0) {
                i++;
                continue;
            }
            int n = sequenceLength(bytes[i]);
            if (n == 0 || i + n > to || decode(bytes, i, n) < 0) return false;
            i += n;
        }
        return true;
    }
}
