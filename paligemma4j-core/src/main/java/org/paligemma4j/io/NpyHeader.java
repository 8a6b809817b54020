package org.paligemma4j.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The header of a NumPy {@code .npy} array (format 1.0, 2.0 or 3.0): magic, version, a little-endian length and
 * a Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}.
 *
 * @param dtype      numpy's type string as written, e.g. {@code <f4} or {@code |V2}
 * @param shape      dimensions, C order
 * @param dataOffset where the array's bytes start, counted from the magic
 */
record NpyHeader(String dtype, long[] shape, int dataOffset) {

    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy itself refuses headers above 10,000 bytes unless told otherwise; we allow more but not unbounded. */
    static final int MAX_HEADER_BYTES = 1 << 20;
    /** Bytes that certainly hold a format 1.0/2.0 header's fixed part. */
    static final int PREAMBLE_BYTES = 12;

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']{1,64})'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]{0,4096})\\)");

    /** Bytes from the magic up to the end of the header dict: read these first, then call {@link #parse}. */
    static int headerLength(byte[] preamble, int available, String where) {
        if (available < 10 || !Arrays.equals(Arrays.copyOf(preamble, 6), MAGIC)) {
            throw new CheckpointException(where + ": not a .npy array (bad magic)");
        }
        int major = preamble[6];
        ByteBuffer b = ByteBuffer.wrap(preamble).order(ByteOrder.LITTLE_ENDIAN);
        long length;
        int start;
        if (major == 1) {
            length = Short.toUnsignedInt(b.getShort(8));
            start = 10;
        } else if (major == 2 || major == 3) {
            if (available < 12) throw new CheckpointException(where + ": truncated .npy header");
            length = Integer.toUnsignedLong(b.getInt(8));
            start = 12;
        } else {
            throw new CheckpointException(where + ": unsupported .npy format version " + major);
        }
        if (length > MAX_HEADER_BYTES) {
            throw new CheckpointException(where + ": .npy header length " + length + " exceeds " + MAX_HEADER_BYTES + " bytes");
        }
        return (int) (start + length);
    }

    /** Parses the header at the start of {@code bytes} (at least {@link #headerLength} of them). */
    static NpyHeader parse(byte[] bytes, int available, String where) {
        int end = headerLength(bytes, available, where);
        if (end > available) {
            throw new CheckpointException(where + ": .npy header of " + end + " bytes runs past the end of the data ("
                    + available + " bytes)");
        }
        int start = bytes[6] == 1 ? 10 : 12;
        String header = new String(bytes, start, end - start,
                bytes[6] == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            String shown = header.strip();
            throw new CheckpointException(where + ": malformed .npy header: "
                    + (shown.length() > 200 ? shown.substring(0, 200) + "…" : shown));
        }
        if (f.group(1).equals("True")) {
            throw new CheckpointException(where + ": Fortran-order .npy arrays are not supported");
        }
        List<Long> dims = new ArrayList<>();
        long elements = 1;
        for (String part : s.group(1).split(",", -1)) {
            String t = part.strip();
            if (t.isEmpty()) continue;
            long dim;
            try {
                dim = Long.parseLong(t);
            } catch (NumberFormatException e) {
                throw new CheckpointException(where + ": .npy shape (" + s.group(1) + ") has a non-integer dimension '" + t + "'");
            }
            if (dim < 0) throw new CheckpointException(where + ": .npy shape (" + s.group(1) + ") has a negative dimension");
            try {
                elements = Math.multiplyExact(elements, dim);
            } catch (ArithmeticException e) {
                throw new CheckpointException(where + ": .npy shape (" + s.group(1) + ") has too many elements");
            }
            dims.add(dim);
        }
        if (dims.size() > 32) throw new CheckpointException(where + ": .npy shape has " + dims.size() + " dimensions");
        return new NpyHeader(d.group(1), dims.stream().mapToLong(Long::longValue).toArray(), end);
    }

    long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }
}
