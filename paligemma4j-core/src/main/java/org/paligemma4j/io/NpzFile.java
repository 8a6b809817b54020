package org.paligemma4j.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A NumPy {@code .npz} archive: a zip (stored or deflated, zip64 allowed) with one {@code <key>.npy} member
 * per array, as written by {@code numpy.savez}. Members are read on demand, so opening a large archive to
 * take a few arrays stays cheap.
 */
public final class NpzFile implements AutoCloseable {

    private final Path file;
    private final ZipFile zip;
    private final Map<String, ZipEntry> entries;

    private NpzFile(Path file, ZipFile zip, Map<String, ZipEntry> entries) {
        this.file = file;
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
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new IOException(file + ": not an .npz archive (zip: " + e.getMessage() + ")", e);
        }
        Map<String, ZipEntry> entries = new LinkedHashMap<>();
        Enumeration<? extends ZipEntry> all = zip.entries();
        while (all.hasMoreElements()) {
            ZipEntry e = all.nextElement();
            // numpy names each member "<key>.npy"; anything else is not an array and is left alone.
            if (!e.isDirectory() && e.getName().endsWith(".npy")) {
                entries.put(e.getName().substring(0, e.getName().length() - 4), e);
            }
        }
        return new NpzFile(file, zip, entries);
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
        ZipEntry e = entries.get(key);
        if (e == null) {
            throw new IOException(file + ": no array '" + key + "' in the archive");
        }
        if (e.getSize() > Integer.MAX_VALUE - 16) {
            throw new IOException(file + ": array '" + key + "' is " + e.getSize() + " bytes, too large to read");
        }
        byte[] bytes;
        try (InputStream in = zip.getInputStream(e)) {
            bytes = in.readAllBytes();
        } catch (ZipException ex) {
            throw new IOException(file + ": member '" + e.getName() + "' is damaged: " + ex.getMessage(), ex);
        }
        try {
            return NpyArray.parse(bytes, file + "!" + e.getName());
        } catch (IllegalArgumentException ex) {
            throw new IOException(ex.getMessage(), ex);
        }
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
