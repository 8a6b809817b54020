package org.paligemma4j.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A NumPy {@code .npz} archive: a zip (stored or deflated, zip64 allowed) with one {@code <key>.npy} member
 * per array, as written by {@code numpy.savez}. The archive is mapped and members are read on demand, so
 * opening a large archive to take a few arrays stays cheap. Damage of any kind is reported as an
 * {@link IOException} whose message names the file (and the member).
 */
public final class NpzFile implements AutoCloseable {

    private final Path file;
    private final Arena arena;
    private final ZipArchive zip;
    private final Map<String, ZipArchive.Member> entries;

    private NpzFile(Path file, Arena arena, ZipArchive zip, Map<String, ZipArchive.Member> entries) {
        this.file = file;
        this.arena = arena;
        this.zip = zip;
        this.entries = entries;
    }

    /** Opens {@code file}; fails with a message naming the file when it is missing or not a zip archive. */
    public static NpzFile open(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "npz file not found");
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": not a regular file");
        }
        Arena arena = Arena.ofShared();
        try {
            ZipArchive zip = ZipArchive.open(file, arena);
            Map<String, ZipArchive.Member> entries = new LinkedHashMap<>();
            for (ZipArchive.Member m : zip.members().values()) {
                // numpy names each member "<key>.npy"; anything else is not an array and is left alone.
                if (m.name().endsWith(".npy")) entries.put(m.name().substring(0, m.name().length() - 4), m);
            }
            return new NpzFile(file, arena, zip, entries);
        } catch (CheckpointException e) {
            arena.close();
            String detail = e.getMessage().startsWith(file + ": ") ? e.getMessage().substring(file.toString().length() + 2) : e.getMessage();
            throw new IOException(file + ": not an .npz archive (" + detail + ")", e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return file;
    }

    /** The array keys in archive order. */
    public List<String> keys() {
        return Collections.unmodifiableList(new ArrayList<>(entries.keySet()));
    }

    public boolean contains(String key) {
        return entries.containsKey(key);
    }

    /** Reads one array; a missing key or a damaged member is reported with the file and key. */
    public NpyArray get(String key) throws IOException {
        ZipArchive.Member e = entries.get(key);
        if (e == null) {
            throw new IOException(file + ": no array '" + key + "' in the archive");
        }
        if (e.size() > Integer.MAX_VALUE - 16) {
            throw new IOException(file + ": array '" + key + "' is " + e.size() + " bytes, too large to read");
        }
        try (ZipArchive.MemberReader reader = zip.reader(e); Arena scratch = Arena.ofConfined()) {
            MemorySegment bytes = scratch.allocate(e.size());
            reader.readFully(bytes);
            return NpyArray.parse(bytes.toArray(ValueLayout.JAVA_BYTE), file + "!" + e.name());
        } catch (CheckpointException ex) {
            throw new IOException(ex.getMessage(), ex);
        }
    }

    @Override
    public void close() throws IOException {
        arena.close();
    }
}
