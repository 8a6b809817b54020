package org.paligemma4j.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A zip archive mapped into memory and read through its central directory (zip64 included), the container of
 * numpy's {@code .npz}. Stored members are handed out as slices of the mapping, so a multi-gigabyte checkpoint
 * is read in place; deflated members are inflated in order, a chunk at a time, by {@link MemberReader}.
 *
 * <p>Every length and offset read from the file is checked against the file's size before it is used, so a
 * damaged archive fails with a {@link CheckpointException} naming the file and the member, never with an
 * out-of-bounds access or an allocation the size of a corrupted field.
 */
final class ZipArchive {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final int EOCD = 0x06054b50, ZIP64_LOCATOR = 0x07064b50, ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
    private static final int EOCD_SIZE = 22, CENTRAL_SIZE = 46, LOCAL_SIZE = 30;
    static final int STORED = 0, DEFLATED = 8;
    /** Deflate expands at most about 1032:1, so a larger claimed size is damage, not data (and must not be allocated). */
    private static final long MAX_DEFLATE_RATIO = 1100;

    /**
     * One member: where its bytes start in the file and how many there are.
     *
     * @param dataOffset offset of the (possibly compressed) bytes in the file
     */
    record Member(String name, int method, long compressedSize, long size, long dataOffset, int crc) {}

    private final Path file;
    private final MemorySegment mapping;
    private final Map<String, Member> members;

    private ZipArchive(Path file, MemorySegment mapping, Map<String, Member> members) {
        this.file = file;
        this.mapping = mapping;
        this.members = members;
    }

    /** Maps {@code file} into {@code arena} and reads its central directory. */
    static ZipArchive open(Path file, Arena arena) {
        if (!Files.isRegularFile(file)) throw new CheckpointException(file + ": no such file");
        MemorySegment mapping;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < EOCD_SIZE) {
                throw new CheckpointException(file + ": " + size + " bytes is too short for a zip archive (truncated?)");
            }
            mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
        return new ZipArchive(file, mapping, readDirectory(file, mapping));
    }

    Path file() {
        return file;
    }

    /** Members by name, in central-directory order. */
    Map<String, Member> members() {
        return members;
    }

    /** A stored member's bytes, in place in the mapping. */
    MemorySegment storedData(Member m) {
        if (m.method != STORED) throw new IllegalStateException(m.name + " is compressed");
        return mapping.asSlice(m.dataOffset, m.size);
    }

    /** Reads a member's uncompressed bytes in order, whatever its compression. */
    MemberReader reader(Member m) {
        return new MemberReader(m);
    }

    private static Map<String, Member> readDirectory(Path file, MemorySegment z) {
        long size = z.byteSize();
        long eocd = findEndOfCentralDirectory(z);
        if (eocd < 0) {
            throw new CheckpointException(file + ": not a zip archive (no end-of-central-directory record; truncated?)");
        }
        long entries = Short.toUnsignedInt(z.get(U16, eocd + 10));
        long cdSize = Integer.toUnsignedLong(z.get(U32, eocd + 12));
        long cdOffset = Integer.toUnsignedLong(z.get(U32, eocd + 16));
        long locator = eocd - 20;
        if (locator >= 0 && z.get(U32, locator) == ZIP64_LOCATOR) {
            long record = z.get(U64, locator + 8);
            if (record < 0 || record > size - 56 || z.get(U32, record) != ZIP64_EOCD) {
                throw new CheckpointException(file + ": the zip64 end-of-central-directory record is missing or damaged");
            }
            entries = z.get(U64, record + 32);
            cdSize = z.get(U64, record + 40);
            cdOffset = z.get(U64, record + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > size || cdSize > size - cdOffset) {
            throw new CheckpointException(file + ": the central directory (" + cdSize + " bytes at offset " + cdOffset
                    + ") lies outside the file of " + size + " bytes (truncated?)");
        }
        if (entries < 0 || entries > cdSize / CENTRAL_SIZE) {
            throw new CheckpointException(file + ": the archive claims " + entries + " members, more than its "
                    + cdSize + "-byte central directory can hold");
        }
        Map<String, Member> out = new LinkedHashMap<>();
        long p = cdOffset, end = cdOffset + cdSize;
        for (long i = 0; i < entries; i++) {
            if (p + CENTRAL_SIZE > end || z.get(U32, p) != CENTRAL) {
                throw new CheckpointException(file + ": central directory entry " + i + " at offset " + p + " is damaged");
            }
            int flags = Short.toUnsignedInt(z.get(U16, p + 8));
            int method = Short.toUnsignedInt(z.get(U16, p + 10));
            int crc = z.get(U32, p + 16);
            long compressed = Integer.toUnsignedLong(z.get(U32, p + 20));
            long uncompressed = Integer.toUnsignedLong(z.get(U32, p + 24));
            int nameLen = Short.toUnsignedInt(z.get(U16, p + 28));
            int extraLen = Short.toUnsignedInt(z.get(U16, p + 30));
            int commentLen = Short.toUnsignedInt(z.get(U16, p + 32));
            long local = Integer.toUnsignedLong(z.get(U32, p + 42));
            long next = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
            if (next > end) {
                throw new CheckpointException(file + ": central directory entry " + i + " runs past the directory's end");
            }
            String name = decodeName(file, z, p + CENTRAL_SIZE, nameLen, i);
            String where = file + ": member '" + name + "'";
            // zip64: the fields that overflowed 32 bits are in the 0x0001 extra field, in this order.
            long x = p + CENTRAL_SIZE + nameLen, xEnd = x + extraLen;
            while (x + 4 <= xEnd) {
                int id = Short.toUnsignedInt(z.get(U16, x));
                int len = Short.toUnsignedInt(z.get(U16, x + 2));
                if (x + 4 + len > xEnd) throw new CheckpointException(where + ": damaged extra field in the central directory");
                if (id == 0x0001) {
                    long q = x + 4, qEnd = q + len;
                    if (uncompressed == 0xFFFFFFFFL) {
                        uncompressed = read64(where, z, q, qEnd);
                        q += 8;
                    }
                    if (compressed == 0xFFFFFFFFL) {
                        compressed = read64(where, z, q, qEnd);
                        q += 8;
                    }
                    if (local == 0xFFFFFFFFL) local = read64(where, z, q, qEnd);
                }
                x += 4 + len;
            }
            if ((flags & 1) != 0) throw new CheckpointException(where + ": encrypted members are not supported");
            if (method != STORED && method != DEFLATED) {
                throw new CheckpointException(where + ": compression method " + method
                        + " is not supported (numpy writes stored or deflated members)");
            }
            if (compressed < 0 || uncompressed < 0 || local < 0 || local > size - LOCAL_SIZE) {
                throw new CheckpointException(where + ": its local header offset " + local + " or sizes lie outside the file");
            }
            if (z.get(U32, local) != LOCAL) {
                throw new CheckpointException(where + ": no local header at offset " + local + " (damaged archive)");
            }
            long data = local + LOCAL_SIZE + Short.toUnsignedInt(z.get(U16, local + 26))
                    + Short.toUnsignedInt(z.get(U16, local + 28));
            if (data > size || compressed > size - data) {
                throw new CheckpointException(where + ": its " + compressed + " bytes at offset " + data
                        + " run past the end of the file (" + size + " bytes; truncated?)");
            }
            if (method == DEFLATED && uncompressed / MAX_DEFLATE_RATIO > compressed + 1) {
                throw new CheckpointException(where + ": claims " + uncompressed + " bytes from " + compressed
                        + " compressed ones, more than deflate can produce (damaged archive)");
            }
            if (method == STORED && compressed != uncompressed) {
                throw new CheckpointException(where + ": stored member has compressed size " + compressed
                        + " but size " + uncompressed);
            }
            if (out.put(name, new Member(name, method, compressed, uncompressed, data, crc)) != null) {
                throw new CheckpointException(where + ": appears twice in the archive");
            }
            p = next;
        }
        return Collections.unmodifiableMap(out);
    }

    private static long read64(String where, MemorySegment z, long q, long end) {
        if (q + 8 > end) throw new CheckpointException(where + ": zip64 extra field is too short");
        return z.get(U64, q);
    }

    private static String decodeName(Path file, MemorySegment z, long at, int len, long index) {
        byte[] bytes = z.asSlice(at, len).toArray(ValueLayout.JAVA_BYTE);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            // Old zip tools wrote names in CP437; numpy writes UTF-8. Keep the member, named byte for byte.
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }

    /** The end-of-central-directory record: the last signature whose comment length reaches the file's end. */
    private static long findEndOfCentralDirectory(MemorySegment z) {
        long size = z.byteSize();
        long stop = Math.max(0, size - EOCD_SIZE - 0xFFFF);
        for (long p = size - EOCD_SIZE; p >= stop; p--) {
            if (z.get(U32, p) == EOCD && p + EOCD_SIZE + Short.toUnsignedInt(z.get(U16, p + 20)) == size) return p;
        }
        return -1;
    }

    /**
     * A member's uncompressed bytes, read front to back: {@link #readFully} fills a target with the next bytes.
     * Deflated data is inflated from the mapping in bounded chunks, stored data copied from it (callers that can use
     * it in place take {@link #storedData} instead); either way the CRC-32 is checked once the last byte is read.
     */
    final class MemberReader implements AutoCloseable {
        private static final int CHUNK = 1 << 20;
        private final Member member;
        private final Inflater inflater;
        private final CRC32 crc = new CRC32();
        private long inputUsed, produced;

        private MemberReader(Member member) {
            this.member = member;
            this.inflater = member.method == DEFLATED ? new Inflater(true) : null;
        }

        /** Bytes of the member not yet read. */
        long remaining() {
            return member.size - produced;
        }

        /** Fills all of {@code target} with the member's next bytes. */
        void readFully(MemorySegment target) {
            String where = file + ": member '" + member.name + "'";
            if (target.byteSize() > remaining()) {
                throw new CheckpointException(where + ": needs " + target.byteSize() + " more bytes but only "
                        + remaining() + " remain");
            }
            if (inflater == null) {
                MemorySegment.copy(mapping, member.dataOffset + produced, target, 0, target.byteSize());
                for (long at = 0; at < target.byteSize(); at += CHUNK) {
                    crc.update(target.asSlice(at, Math.min(CHUNK, target.byteSize() - at)).asByteBuffer());
                }
                produced += target.byteSize();
                checkCrc(where);
                return;
            }
            long filled = 0;
            int stalls = 0;
            try {
                while (filled < target.byteSize()) {
                    if (inflater.needsInput()) {
                        long n = Math.min(CHUNK, member.compressedSize - inputUsed);
                        if (n <= 0) throw new CheckpointException(where + ": compressed data ends early (damaged member)");
                        inflater.setInput(mapping.asSlice(member.dataOffset + inputUsed, n).asByteBuffer());
                        inputUsed += n;
                    }
                    if (inflater.needsDictionary()) throw new CheckpointException(where + ": damaged compressed data");
                    ByteBuffer out = target.asSlice(filled, Math.min(CHUNK, target.byteSize() - filled)).asByteBuffer();
                    int n = inflater.inflate(out);
                    if (n == 0 && !inflater.needsInput() && !inflater.finished() && ++stalls > 2) {
                        throw new CheckpointException(where + ": damaged compressed data (inflation makes no progress)");
                    }
                    if (n > 0) {
                        crc.update(target.asSlice(filled, n).asByteBuffer());
                        filled += n;
                    } else if (inflater.finished()) {
                        throw new CheckpointException(where + ": compressed data ends after " + (produced + filled)
                                + " of " + member.size + " bytes (damaged member)");
                    }
                }
            } catch (DataFormatException e) {
                throw new CheckpointException(where + ": damaged compressed data (" + e.getMessage() + ")", e);
            }
            produced += filled;
            checkCrc(where);
        }

        private void checkCrc(String where) {
            if (produced == member.size && (int) crc.getValue() != member.crc) {
                throw new CheckpointException(where + ": CRC-32 mismatch (damaged member)");
            }
        }

        @Override
        public void close() {
            if (inflater != null) inflater.end();
        }
    }
}
