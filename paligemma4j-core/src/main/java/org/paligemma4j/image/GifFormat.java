package org.paligemma4j.image;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.util.Arrays;

/**
 * GIF, first frame, as PIL shows it: a canvas of the logical screen size (grown to the frame if the
 * frame sticks out), filled with the frame's transparent index (else index 0), the frame's indices
 * pasted at its offset, then looked up in the local palette (else the global one). A palette that is
 * the identity gray ramp, or no palette at all, makes PIL open the image as gray: the index is the
 * gray level. The JDK decodes the LZW data; the block structure is walked here first, so a file
 * cut inside the first frame is reported as truncated.
 */
final class GifFormat {

    private GifFormat() {}

    record Header(int width, int height, int left, int top, int frameWidth, int frameHeight,
                  byte[] palette, int transparentIndex) {}

    static Header readHeader(ByteReader file) throws InvalidImageException {
        int screenW = file.u16le(6, "logical screen width");
        int screenH = file.u16le(8, "logical screen height");
        int flags = file.u8(10, "screen flags");
        int pos = 13;
        byte[] global = null;
        if ((flags & 0x80) != 0) {
            int size = 3 << ((flags & 7) + 1);
            file.require(pos, size, "the global colour table");
            global = Arrays.copyOfRange(file.data, pos, pos + size);
            pos += size;
        }
        int transparent = -1;
        while (pos < file.length()) {
            int block = file.data[pos] & 0xff;
            if (block == ';') {
                break;
            } else if (block == '!') {
                int label = file.u8(pos + 1, "extension label");
                int first = pos + 2;
                if (label == 0xf9 && file.u8(first, "graphic control block size") >= 4) {
                    int gceFlags = file.u8(first + 1, "graphic control flags");
                    transparent = (gceFlags & 1) != 0 ? file.u8(first + 4, "transparent index") : -1;
                }
                pos = skipSubBlocks(file, first, "extension at byte " + pos);
            } else if (block == ',') {
                int left = file.u16le(pos + 1, "frame left");
                int top = file.u16le(pos + 3, "frame top");
                int fw = file.u16le(pos + 5, "frame width");
                int fh = file.u16le(pos + 7, "frame height");
                int frameFlags = file.u8(pos + 9, "frame flags");
                if (fw == 0 || fh == 0) {
                    throw file.error("the first frame (byte " + pos + ") is empty: " + fw + "x" + fh);
                }
                int p = pos + 10;
                byte[] palette = global;
                if ((frameFlags & 0x80) != 0) {
                    int size = 3 << ((frameFlags & 7) + 1);
                    file.require(p, size, "the local colour table");
                    palette = Arrays.copyOfRange(file.data, p, p + size);
                    p += size;
                }
                int codeSize = file.u8(p, "LZW minimum code size");
                if (codeSize < 1 || codeSize > 11) {
                    throw file.error("invalid LZW code size " + codeSize + " at byte " + p);
                }
                skipSubBlocks(file, p + 1, "image data of the first frame");
                int width = Math.max(screenW, left + fw);
                int height = Math.max(screenH, top + fh);
                return new Header(width, height, left, top, fw, fh,
                        isGrayRamp(palette) ? null : palette, transparent);
            } else {
                pos++; // PIL skips bytes it does not recognise between blocks
            }
        }
        throw file.error("no image in the file");
    }

    /** Returns the position after the terminating empty sub-block. */
    private static int skipSubBlocks(ByteReader file, int pos, String what) throws InvalidImageException {
        while (true) {
            int size = file.u8(pos, what);
            if (size == 0) {
                return pos + 1;
            }
            file.require(pos + 1, size, what);
            pos += 1 + size;
        }
    }

    /** PIL's test for a palette it can drop: entry i is (i, i, i) for every entry. */
    private static boolean isGrayRamp(byte[] palette) {
        if (palette == null) {
            return true;
        }
        for (int i = 0; i < palette.length; i++) {
            if ((palette[i] & 0xff) != i / 3) {
                return false;
            }
        }
        return true;
    }

    static RgbImage decode(ByteReader file, Header header) throws IOException {
        BufferedImage frame = ImageIoDecoding.read(file.data, "gif", file).result();
        if (frame.getWidth() != header.frameWidth() || frame.getHeight() != header.frameHeight()) {
            throw file.error("decoder returned " + frame.getWidth() + "x" + frame.getHeight()
                    + " for a " + header.frameWidth() + "x" + header.frameHeight() + " frame");
        }
        int w = header.width();
        int h = header.height();
        byte[] indices = new byte[w * h];
        if (header.transparentIndex() > 0) {
            Arrays.fill(indices, (byte) header.transparentIndex());
        }
        Raster raster = frame.getRaster();
        int[] row = new int[header.frameWidth()];
        for (int y = 0; y < header.frameHeight(); y++) {
            raster.getSamples(raster.getMinX(), raster.getMinY() + y, row.length, 1, 0, row);
            int o = (header.top() + y) * w + header.left();
            for (int x = 0; x < row.length; x++) {
                indices[o + x] = (byte) row[x];
            }
        }
        byte[] lut = new byte[256 * 3];
        if (header.palette() == null) {
            for (int i = 0; i < 256; i++) {
                lut[3 * i] = lut[3 * i + 1] = lut[3 * i + 2] = (byte) i;
            }
        } else {
            System.arraycopy(header.palette(), 0, lut, 0, header.palette().length);
        }
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < indices.length; i++) {
            int p = (indices[i] & 0xff) * 3;
            rgb[3 * i] = lut[p];
            rgb[3 * i + 1] = lut[p + 1];
            rgb[3 * i + 2] = lut[p + 2];
        }
        return new RgbImage(w, h, rgb);
    }
}
