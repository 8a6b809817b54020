package org.paligemma4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a model's tensors the way the Hub stores them: one {@code model.safetensors}, or shards
 * {@code model-0000i-of-0000n.safetensors} of at most {@code maxShardBytes} each plus
 * {@code model.safetensors.index.json}. Existing weight files in the folder are replaced.
 */
public final class ShardedCheckpointWriter {
    private ShardedCheckpointWriter() {}

    /** Progress callback: bytes written so far of the total. */
    public interface Progress {
        void update(long written, long total);
    }

    /** Writes {@code entries} (in this order) into {@code dir}; returns the files written. */
    public static List<Path> write(Path dir, List<SafetensorsWriter.Entry> entries, long maxShardBytes,
                                   Map<String, String> metadata, Progress progress) throws IOException {
        List<List<SafetensorsWriter.Entry>> shards = new ArrayList<>();
        List<SafetensorsWriter.Entry> current = new ArrayList<>();
        long currentBytes = 0, total = 0;
        for (SafetensorsWriter.Entry entry : entries) {
            long bytes = entry.byteLength();
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(entry);
            currentBytes += bytes;
            total += bytes;
        }
        shards.add(current);

        Files.createDirectories(dir);
        try (var old = Files.list(dir)) {
            for (Path p : (Iterable<Path>) old::iterator) {
                String n = p.getFileName().toString();
                if (n.endsWith(".safetensors") || n.equals(Checkpoint.INDEX_FILE)) Files.delete(p);
            }
        }
        List<Path> files = new ArrayList<>();
        if (shards.size() == 1) {
            Path f = dir.resolve(Checkpoint.SINGLE_FILE);
            SafetensorsWriter.write(f, shards.get(0), metadata);
            files.add(f);
            if (progress != null) progress.update(total, total);
            return files;
        }
        long written = 0;
        List<String> lines = new ArrayList<>();
        for (int s = 0; s < shards.size(); s++) {
            String name = String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
            Path f = dir.resolve(name);
            SafetensorsWriter.write(f, shards.get(s), metadata);
            files.add(f);
            for (SafetensorsWriter.Entry e : shards.get(s)) {
                lines.add("    \"" + e.name() + "\": \"" + name + "\"");
                written += e.byteLength();
            }
            if (progress != null) progress.update(written, total);
        }
        lines.sort(null);
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), "{\n  \"metadata\": {\n    \"total_size\": " + total
                + "\n  },\n  \"weight_map\": {\n" + String.join(",\n", lines) + "\n  }\n}\n");
        return files;
    }
}
