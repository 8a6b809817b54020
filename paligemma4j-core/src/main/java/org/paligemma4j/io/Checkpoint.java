package org.paligemma4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * All safetensors of a Hugging Face model directory, mapped into one {@link Arena} that this object
 * owns: either a single {@code model.safetensors} or the shards named by
 * {@code model.safetensors.index.json}. Closing it unmaps every file, so tensors must not be used after.
 */
public final class Checkpoint implements AutoCloseable {

    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path directory;
    private final Arena arena;
    private final List<SafetensorsFile> files;
    private final Map<String, SafeTensor> tensors;
    private final Path index;

    private Checkpoint(Path directory, Arena arena, List<SafetensorsFile> files, Map<String, SafeTensor> tensors, Path index) {
        this.directory = directory;
        this.arena = arena;
        this.files = files;
        this.tensors = tensors;
        this.index = index;
    }

    /**
     * Opens the weights of {@code directory} (sharded when an index file is present), or of a big_vision
     * {@code .npz} file, converted to Hugging Face names ({@link BigVisionCheckpoint}).
     */
    public static Checkpoint open(Path directory) {
        if (BigVisionCheckpoint.isNpz(directory)) return BigVisionCheckpoint.open(directory).checkpoint();
        if (!Files.isDirectory(directory)) {
            throw new CheckpointException(directory + ": model directory does not exist");
        }
        Arena arena = Arena.ofShared();
        try {
            Path index = directory.resolve(INDEX_FILE);
            Path single = directory.resolve(SINGLE_FILE);
            if (Files.isRegularFile(index)) return openSharded(directory, index, arena);
            if (Files.isRegularFile(single)) {
                SafetensorsFile f = SafetensorsFile.open(single, arena);
                return new Checkpoint(directory, arena, List.of(f), f.tensors(), null);
            }
            throw new CheckpointException(directory + ": no " + SINGLE_FILE + " or " + INDEX_FILE + " in the model directory");
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Tensors another reader assembled in {@code arena} (which the checkpoint then owns and closes) from {@code source}. */
    static Checkpoint of(Path source, Arena arena, Map<String, SafeTensor> tensors) {
        return new Checkpoint(source, arena, List.of(), tensors, null);
    }

    private static Checkpoint openSharded(Path directory, Path index, Arena arena) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new CheckpointException(index + ": missing the \"weight_map\" object");
        }
        if (weightMap.isEmpty()) throw new CheckpointException(index + ": the \"weight_map\" object lists no tensors");
        Map<String, String> shardOf = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(index + ": weight_map entry '" + e.getKey() + "' is not a file name");
            }
            String shard = e.getValue().asText();
            if (shard.isEmpty() || shard.equals(".") || shard.equals("..") || shard.contains("/") || shard.contains("\\")
                    || shard.indexOf('\0') >= 0) {
                throw new CheckpointException(index + ": shard name '" + shard + "' for tensor '" + e.getKey()
                        + "' is not a plain file name in the model directory");
            }
            shardOf.put(e.getKey(), shard);
        }
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        for (String shard : new TreeSet<>(shardOf.values())) {
            Path p = directory.resolve(shard);
            if (!Files.isRegularFile(p)) {
                throw new CheckpointException(index + ": shard '" + shard + "' is named by the index but missing from "
                        + directory);
            }
            shards.put(shard, SafetensorsFile.open(p, arena));
        }
        Map<String, SafeTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : shardOf.entrySet()) {
            SafeTensor t = shards.get(e.getValue()).tensors().get(e.getKey());
            if (t == null) {
                throw new CheckpointException(index + ": names tensor '" + e.getKey() + "' in shard '" + e.getValue()
                        + "', but that shard has no such tensor");
            }
            tensors.put(e.getKey(), t);
        }
        for (SafetensorsFile f : shards.values()) {
            for (String name : f.tensors().keySet()) {
                String claimed = shardOf.get(name);
                if (claimed == null) {
                    throw new CheckpointException(f.path() + ": tensor '" + name + "' is not listed in " + INDEX_FILE);
                }
                if (!f.path().getFileName().toString().equals(claimed)) {
                    throw new CheckpointException(f.path() + ": tensor '" + name + "' also appears in this shard, but "
                            + INDEX_FILE + " places it in '" + claimed + "'");
                }
            }
        }
        return new Checkpoint(directory, arena, new ArrayList<>(shards.values()), Collections.unmodifiableMap(tensors), index);
    }

    /** The model directory, or the file the tensors came from (a big_vision {@code .npz}). */
    public Path directory() {
        return directory;
    }

    /** The index file that placed the tensors in shards, or null for a single file (or a converted checkpoint). */
    public Path index() {
        return index;
    }

    /** The arena holding the mappings (and any converted tensors). */
    Arena arena() {
        return arena;
    }

    /** The safetensors files mapped (none for a converted checkpoint). */
    public List<SafetensorsFile> files() {
        return files;
    }

    public Map<String, SafeTensor> tensors() {
        return tensors;
    }

    public SafeTensor tensor(String name) {
        SafeTensor t = tensors.get(name);
        if (t == null) throw new CheckpointException(directory + ": no tensor named '" + name + "'");
        return t;
    }

    /** Total bytes of tensor data (what a forward pass would read if it touched every weight once). */
    public long dataBytes() {
        long n = 0;
        for (SafeTensor t : tensors.values()) n += t.data().byteSize();
        return n;
    }

    @Override
    public void close() {
        arena.close();
    }
}
