package org.paligemma4j.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors files the way the reference library lays them out: header JSON padded with spaces
 * to a multiple of 8 bytes, then each tensor's bytes back to back in header order. Tensor contents are
 * produced in chunks by a {@link Content}, so multi-gigabyte files stream through a small buffer.
 */
public final class SafetensorsWriter {
    private static final int CHUNK = 16 << 20;

    private SafetensorsWriter() {}

    /** Produces a tensor's bytes: fills {@code out} (little-endian, all remaining bytes) starting at byte {@code offset}. */
    @FunctionalInterface
    public interface Content {
        void fill(long offset, ByteBuffer out);

        /** Copies bytes from an existing tensor. */
        static Content copyOf(MemorySegment bytes) {
            return (offset, out) -> {
                int n = out.remaining();
                MemorySegment.ofBuffer(out).copyFrom(bytes.asSlice(offset, n));
                out.position(out.limit());
            };
        }

        /** The bytes of float32 values (a tensor held on the heap, such as a gradient). */
        static Content ofFloats(float[] values) {
            return (offset, out) -> {
                int n = out.remaining() / 4;
                out.asFloatBuffer().put(values, (int) (offset / 4), n);
                out.position(out.position() + n * 4);
            };
        }
    }

    public record Entry(String name, DType dtype, long[] shape, Content content) {
        public long byteLength() {
            long n = dtype.byteSize();
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        }
    }

    /** Writes {@code entries} to {@code file} with {@code metadata} (e.g. {"format": "pt"}); returns the file size. */
    public static long write(Path file, List<Entry> entries, Map<String, String> metadata) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name());
            t.put("dtype", e.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            ArrayNode offsets = t.putArray("data_offsets");
            offsets.add(offset);
            offset += e.byteLength();
            offsets.add(offset);
        }
        byte[] text = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(text);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, head);
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) {
                long length = e.byteLength();
                for (long done = 0; done < length; ) {
                    int n = (int) Math.min(CHUNK, length - done);
                    buf.clear().limit(n);
                    e.content().fill(done, buf);
                    if (buf.hasRemaining()) {
                        throw new IllegalStateException("content of '" + e.name() + "' left " + buf.remaining() + " bytes unfilled");
                    }
                    buf.flip();
                    writeFully(ch, buf);
                    done += n;
                }
            }
            return ch.size();
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
