package org.paligemma4j.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A NumPy {@code .npy} array (format 1.0/2.0/3.0, C order): the exchange format of the goldens and of
 * {@code paligemma dump}. Values are kept as raw little-endian bytes plus the numpy dtype string
 * ({@code <f4}, {@code <f8}, {@code <i8}, {@code <i4}, {@code |u1}, {@code |b1}, ...).
 */
public record NpyArray(String dtype, long[] shape, byte[] data) {

    private static final byte[] MAGIC = NpyHeader.MAGIC;

    public NpyArray {
        long expected = elementCount(shape) * itemSize(dtype);
        if (expected != data.length) {
            throw new IllegalArgumentException("npy: shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + expected + " bytes, got " + data.length);
        }
    }

    public static NpyArray read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 16) throw new CheckpointException(file + ": " + size + " bytes is too large to read as one array");
        return parse(Files.readAllBytes(file), file.toString());
    }

    /** Parses a whole {@code .npy} file; a malformed one fails with a {@link CheckpointException} naming {@code name}. */
    public static NpyArray parse(byte[] bytes, String name) {
        NpyHeader h = NpyHeader.parse(bytes, bytes.length, name);
        String dtype = h.dtype();
        int item;
        try {
            item = itemSize(dtype);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(name + ": unsupported .npy dtype '" + dtype + "'");
        }
        if (dtype.startsWith(">") && item > 1) {
            throw new CheckpointException(name + ": big-endian .npy dtype " + dtype + " is not supported");
        }
        long need = h.elementCount() <= Long.MAX_VALUE / item ? h.elementCount() * item : Long.MAX_VALUE;
        if (need > bytes.length - h.dataOffset()) {
            throw new CheckpointException(name + ": .npy data of shape " + Arrays.toString(h.shape()) + " needs " + need
                    + " bytes but only " + (bytes.length - h.dataOffset()) + " remain (truncated?)");
        }
        return new NpyArray(normalize(dtype), h.shape(),
                Arrays.copyOfRange(bytes, h.dataOffset(), (int) (h.dataOffset() + need)));
    }

    private static String normalize(String dtype) {
        return dtype.startsWith("=") ? "<" + dtype.substring(1) : dtype;
    }

    static int itemSize(String dtype) {
        if (dtype.length() < 2 || "<>|=".indexOf(dtype.charAt(0)) < 0) {
            throw new IllegalArgumentException("npy: unsupported dtype " + dtype);
        }
        String t = dtype.substring(1);
        return switch (t) {
            case "f8", "i8", "u8" -> 8;
            case "f4", "i4", "u4" -> 4;
            case "f2", "i2", "u2" -> 2;
            case "u1", "i1", "b1" -> 1;
            default -> throw new IllegalArgumentException("npy: unsupported dtype " + dtype);
        };
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public long size() {
        return elementCount(shape);
    }

    private ByteBuffer le() {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** All values widened to float32; integer and bool arrays are converted by value. */
    public float[] toFloatArray() {
        int n = Math.toIntExact(size());
        float[] out = new float[n];
        ByteBuffer b = le();
        String t = dtype.substring(1);
        for (int i = 0; i < n; i++) {
            out[i] = switch (t) {
                case "f4" -> b.getFloat(i * 4);
                case "f8" -> (float) b.getDouble(i * 8);
                case "f2" -> org.paligemma4j.tensor.HalfFloats.f16ToFloat(b.getShort(i * 2));
                default -> (float) longAt(b, t, i);
            };
        }
        return out;
    }

    /** All values as float64 (exact for f4/f8 and integers up to 2^53). */
    public double[] toDoubleArray() {
        int n = Math.toIntExact(size());
        double[] out = new double[n];
        ByteBuffer b = le();
        String t = dtype.substring(1);
        for (int i = 0; i < n; i++) {
            out[i] = switch (t) {
                case "f4" -> b.getFloat(i * 4);
                case "f8" -> b.getDouble(i * 8);
                case "f2" -> org.paligemma4j.tensor.HalfFloats.f16ToFloat(b.getShort(i * 2));
                default -> longAt(b, t, i);
            };
        }
        return out;
    }

    /** Integer (or bool) values; refuses float arrays. */
    public long[] toLongArray() {
        int n = Math.toIntExact(size());
        String t = dtype.substring(1);
        if (t.startsWith("f")) throw new IllegalStateException("npy: " + dtype + " is not an integer array");
        long[] out = new long[n];
        ByteBuffer b = le();
        for (int i = 0; i < n; i++) out[i] = longAt(b, t, i);
        return out;
    }

    public int[] toIntArray() {
        long[] l = toLongArray();
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) out[i] = Math.toIntExact(l[i]);
        return out;
    }

    private static long longAt(ByteBuffer b, String t, int i) {
        return switch (t) {
            case "i8", "u8" -> b.getLong(i * 8);
            case "i4" -> b.getInt(i * 4);
            case "u4" -> Integer.toUnsignedLong(b.getInt(i * 4));
            case "i2" -> b.getShort(i * 2);
            case "u2" -> Short.toUnsignedInt(b.getShort(i * 2));
            case "i1" -> b.get(i);
            case "u1", "b1" -> Byte.toUnsignedInt(b.get(i));
            default -> throw new IllegalStateException("npy: cannot read " + t + " as integer");
        };
    }

    public static NpyArray ofFloats(float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return new NpyArray("<f4", shape, b.array());
    }

    public static NpyArray ofLongs(long[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) b.putLong(v);
        return new NpyArray("<i8", shape, b.array());
    }

    public static NpyArray ofInts(int[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) b.putInt(v);
        return new NpyArray("<i4", shape, b.array());
    }

    public static NpyArray ofUnsignedBytes(byte[] values, long... shape) {
        return new NpyArray("|u1", shape, values.clone());
    }

    public static NpyArray ofBooleans(boolean[] values, long... shape) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) (values[i] ? 1 : 0);
        return new NpyArray("|b1", shape, b);
    }

    /** Writes format 1.0 with the header padded to a multiple of 64 bytes, as numpy does. */
    public void write(Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            write(out);
        }
    }

    public void write(OutputStream out) throws IOException {
        writeHeader(out, dtype, shape);
        out.write(data);
    }

    /**
     * The .npy header (format 1.0, padded to a multiple of 64 bytes as numpy does) of an array of {@code dtype}
     * and {@code shape}: what {@link FloatStreamWriter} writes before streaming the values, so arrays larger
     * than a Java array can be written.
     */
    static void writeHeader(OutputStream out, String dtype, long[] shape) throws IOException {
        StringBuilder shapeText = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            shapeText.append(shape[i]);
            if (shape.length == 1 || i < shape.length - 1) shapeText.append(shape.length == 1 ? "," : ", ");
        }
        shapeText.append(')');
        String dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        out.write(MAGIC);
        out.write(1);
        out.write(0);
        int len = header.length();
        out.write(len & 0xff);
        out.write((len >> 8) & 0xff);
        out.write(header.getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * A little-endian float32 .npy written in pieces: the header first, then the values in C order as they are
     * computed, so an array never has to be held whole (the 896 px logits are 4 GB). {@link #close} checks that
     * exactly the promised number of values arrived.
     */
    public static final class FloatStreamWriter implements AutoCloseable {
        private final OutputStream out;
        private final Path file;
        private final long expected;
        private long written;

        public FloatStreamWriter(Path file, long... shape) throws IOException {
            this.file = file;
            this.expected = elementCount(shape);
            this.out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20);
            writeHeader(out, "<f4", shape);
        }

        /** Appends {@code values[from, from + count)}. */
        public void write(float[] values, int from, int count) throws IOException {
            if (written + count > expected) {
                throw new IOException(file + ": more than the " + expected + " values its shape holds");
            }
            ByteBuffer b = ByteBuffer.allocate(Math.min(count, 1 << 16) * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i += 1 << 16) {
                int n = Math.min(1 << 16, count - i);
                b.clear();
                b.asFloatBuffer().put(values, from + i, n);
                out.write(b.array(), 0, n * 4);
            }
            written += count;
        }

        @Override
        public void close() throws IOException {
            out.close();
            if (written != expected) throw new IOException(file + ": " + written + " values written but its shape holds " + expected);
        }
    }
}
