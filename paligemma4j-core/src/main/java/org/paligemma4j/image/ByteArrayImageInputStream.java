package org.paligemma4j.image;

import javax.imageio.stream.ImageInputStreamImpl;

/**
 * An {@code ImageInputStream} over bytes already in memory: no copy, no temporary cache file
 * (which {@code ImageIO.createImageInputStream} may create), and a known length so readers can
 * detect truncation.
 */
final class ByteArrayImageInputStream extends ImageInputStreamImpl {

    private final byte[] data;

    ByteArrayImageInputStream(byte[] data) {
        this.data = data;
    }

    @Override
    public int read() {
        bitOffset = 0;
        if (streamPos >= data.length) {
            return -1;
        }
        return data[(int) streamPos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (off < 0 || len < 0 || off + len > b.length) {
            throw new IndexOutOfBoundsException("off " + off + ", len " + len + ", buffer " + b.length);
        }
        bitOffset = 0;
        if (len == 0) {
            return 0;
        }
        if (streamPos >= data.length) {
            return -1;
        }
        int n = (int) Math.min(len, data.length - streamPos);
        System.arraycopy(data, (int) streamPos, b, off, n);
        streamPos += n;
        return n;
    }

    @Override
    public long length() {
        return data.length;
    }
}
