package org.paligemma4j.image;

/**
 * Bounds-checked reads of the raw bytes of one image file, for the header parsers. Every read past
 * the end becomes an {@link InvalidImageException} that says what was being read and where the
 * file ends.
 */
final class ByteReader {

    final byte[] data;
    private final String prefix;

    ByteReader(byte[] data, String fileName, String format) {
        this.data = data;
        this.prefix = fileName + ": " + format + ": ";
    }

    int length() {
        return data.length;
    }

    /** Fails unless {@code [offset, offset + count)} lies inside the file. */
    void require(long offset, long count, String what) throws InvalidImageException {
        if (offset < 0 || count < 0 || offset + count > data.length) {
            throw error("truncated: " + what + " needs bytes " + offset + ".." + (offset + count)
                    + " but the file ends at byte " + data.length);
        }
    }

    int u8(int offset, String what) throws InvalidImageException {
        require(offset, 1, what);
        return data[offset] & 0xff;
    }

    int u16be(int offset, String what) throws InvalidImageException {
        require(offset, 2, what);
        return (data[offset] & 0xff) << 8 | data[offset + 1] & 0xff;
    }

    int u16le(int offset, String what) throws InvalidImageException {
        require(offset, 2, what);
        return (data[offset + 1] & 0xff) << 8 | data[offset] & 0xff;
    }

    int u24le(int offset, String what) throws InvalidImageException {
        require(offset, 3, what);
        return (data[offset + 2] & 0xff) << 16 | (data[offset + 1] & 0xff) << 8 | data[offset] & 0xff;
    }

    long u32be(int offset, String what) throws InvalidImageException {
        require(offset, 4, what);
        return (long) (data[offset] & 0xff) << 24 | (data[offset + 1] & 0xff) << 16
                | (data[offset + 2] & 0xff) << 8 | data[offset + 3] & 0xff;
    }

    long u32le(int offset, String what) throws InvalidImageException {
        require(offset, 4, what);
        return (long) (data[offset + 3] & 0xff) << 24 | (data[offset + 2] & 0xff) << 16
                | (data[offset + 1] & 0xff) << 8 | data[offset] & 0xff;
    }

    boolean startsWith(int offset, byte[] magic) {
        if (offset < 0 || offset + magic.length > data.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if (data[offset + i] != magic[i]) {
                return false;
            }
        }
        return true;
    }

    InvalidImageException error(String problem) {
        return new InvalidImageException(prefix + problem);
    }

    InvalidImageException error(String problem, Throwable cause) {
        return new InvalidImageException(prefix + problem, cause);
    }
}
