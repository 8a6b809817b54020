package org.paligemma4j.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped safetensors file, validated completely before any tensor is handed out.
 *
 * <p>Layout: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name to
 * {@code {dtype, shape, data_offsets: [begin, end]}} (offsets relative to the data region that follows
 * the header), plus an optional {@code __metadata__} string map. The whole file is mapped once; tensors
 * are slices of that mapping, so nothing is copied and the OS pages weights in on first use.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** The reference implementation refuses headers above 100 MB; so do we, before reading them. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path path;
    private final Arena ownedArena;
    private final Map<String, SafeTensor> tensors;
    private final Map<String, String> metadata;
    private final long fileSize;

    private SafetensorsFile(Path path, Arena ownedArena, Map<String, SafeTensor> tensors,
                            Map<String, String> metadata, long fileSize) {
        this.path = path;
        this.ownedArena = ownedArena;
        this.tensors = tensors;
        this.metadata = metadata;
        this.fileSize = fileSize;
    }

    /** Maps and validates {@code file}; the mapping lives until {@link #close()}. */
    public static SafetensorsFile open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            return open(file, arena, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Maps and validates {@code file} into {@code arena}, which the caller owns and closes. */
    public static SafetensorsFile open(Path file, Arena arena) {
        return open(file, arena, null);
    }

    private static SafetensorsFile open(Path file, Arena arena, Arena owned) {
        String where = file.toString();
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(where + ": no such safetensors file");
        }
        MemorySegment whole;
        long size;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            if (size < 8) {
                throw new CheckpointException(where + ": file is " + size
                        + " bytes, too short for the 8-byte header length that starts a safetensors file");
            }
            whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new CheckpointException(where + ": cannot read: " + e.getMessage(), e);
        }
        long headerLen = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen < 0 || headerLen > size - 8) {
            throw new CheckpointException(where + ": header length " + Long.toUnsignedString(headerLen)
                    + " runs past the end of the file (" + size + " bytes)");
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw new CheckpointException(where + ": header length " + headerLen + " exceeds the "
                    + MAX_HEADER_BYTES + "-byte limit");
        }
        if (headerLen < 2) {
            throw new CheckpointException(where + ": header length " + headerLen + " is too small for a JSON object");
        }
        byte[] headerBytes = whole.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        if (headerBytes[0] != '{') {
            throw new CheckpointException(where + ": header does not start with '{' (not a safetensors file?)");
        }
        JsonNode header;
        try {
            header = JSON.readTree(headerBytes);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(where + ": header is not valid JSON: " + e.getOriginalMessage()
                    + " at byte " + e.getLocation().getByteOffset(), e);
        } catch (IOException e) {
            throw new CheckpointException(where + ": cannot parse header: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new CheckpointException(where + ": header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        long dataSize = size - dataStart;
        MemorySegment dataRegion = whole.asSlice(dataStart, dataSize);

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (name.equals("__metadata__")) {
                readMetadata(where, value, metadata);
                continue;
            }
            entries.add(readEntry(where, name, value, dataSize));
        }
        checkCoverage(where, entries, dataSize);

        Map<String, SafeTensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            MemorySegment slice = dataRegion.asSlice(e.begin, e.end - e.begin);
            tensors.put(e.name, new SafeTensor(e.name, e.dtype, e.shape, slice, file));
        }
        return new SafetensorsFile(file, owned, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata), size);
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private static void readMetadata(String where, JsonNode value, Map<String, String> out) {
        if (!value.isObject()) {
            throw new CheckpointException(where + ": __metadata__ must be a JSON object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) {
                throw new CheckpointException(where + ": __metadata__ value of '" + m.getKey() + "' is not a string");
            }
            out.put(m.getKey(), m.getValue().asText());
        }
    }

    private static Entry readEntry(String where, String name, JsonNode value, long dataSize) {
        String at = where + ": tensor '" + name + "'";
        if (!value.isObject()) throw new CheckpointException(at + ": header entry is not a JSON object");
        JsonNode dtypeNode = value.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw new CheckpointException(at + ": missing dtype");
        DType dtype = DType.fromSafetensorsName(dtypeNode.asText());
        if (dtype == null) throw new CheckpointException(at + ": unknown dtype '" + dtypeNode.asText() + "'");
        JsonNode shapeNode = value.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) throw new CheckpointException(at + ": missing shape array");
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new CheckpointException(at + ": shape entry " + i + " is not a non-negative integer: " + d);
            }
            shape[i] = d.asLong();
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException overflow) {
                throw new CheckpointException(at + ": shape " + shapeNode + " has too many elements");
            }
        }
        JsonNode offsets = value.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw new CheckpointException(at + ": data_offsets must be [begin, end] integers, got " + offsets);
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new CheckpointException(at + ": data_offsets [" + begin + ", " + end + "] are not an ordered range");
        }
        if (end > dataSize) {
            throw new CheckpointException(at + ": data_offsets [" + begin + ", " + end
                    + "] lie outside the data region of " + dataSize + " bytes (file truncated?)");
        }
        long expected;
        try {
            expected = Math.multiplyExact(elements, dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new CheckpointException(at + ": shape " + shapeNode + " is too large");
        }
        if (end - begin != expected) {
            throw new CheckpointException(at + ": shape " + shapeNode + " of " + dtype + " needs " + expected
                    + " bytes but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /**
     * The format requires the data region to be indexed entirely, without holes or overlaps (this keeps
     * a file from hiding a second payload). Zero-sized tensors take no bytes and are exempt.
     */
    private static void checkCoverage(String where, List<Entry> entries, long dataSize) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long cursor = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin == e.end) continue;
            if (e.begin < cursor) {
                throw new CheckpointException(where + ": tensor '" + e.name + "' bytes [" + e.begin + ", " + e.end
                        + ") overlap tensor '" + previous.name + "' [" + previous.begin + ", " + previous.end + ")");
            }
            if (e.begin > cursor) {
                throw new CheckpointException(where + ": bytes [" + cursor + ", " + e.begin
                        + ") of the data region belong to no tensor (hole before '" + e.name + "')");
            }
            cursor = e.end;
            previous = e;
        }
        if (cursor != dataSize) {
            throw new CheckpointException(where + ": the data region has " + dataSize + " bytes but the tensors cover "
                    + cursor + " (" + (dataSize - cursor) + " trailing bytes belong to no tensor)");
        }
    }

    public Path path() {
        return path;
    }

    public long fileSize() {
        return fileSize;
    }

    /** Tensors in header order. */
    public Map<String, SafeTensor> tensors() {
        return tensors;
    }

    public SafeTensor tensor(String name) {
        SafeTensor t = tensors.get(name);
        if (t == null) throw new CheckpointException(path + ": no tensor named '" + name + "'");
        return t;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        if (ownedArena != null) ownedArena.close();
    }
}
