package org.paligemma4j.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.paligemma4j.testing.FakeHub;

/** Shared helpers of the Hub tests: an environment pointing at a fake Hub, and the cache-layout check. */
public final class HubTesting {
    private HubTesting() {}

    public static HubEnvironment env(FakeHub fake, Path cache) {
        return new HubEnvironment(fake.endpoint(), cache, null, false, Duration.ofSeconds(5), HubEnvironment.DEFAULT_MAX_WORKERS);
    }

    public static Hub hub(HubEnvironment env) {
        return new Hub(env, DownloadProgress.silent());
    }

    /**
     * Checks the cache holds {@code repo} at {@code revision} exactly as the official client lays it out: every file a
     * relative symlink {@code ../../blobs/<etag>} (one more {@code ../} per subfolder), blobs named by ETag with the
     * file's bytes, {@code refs/<revision>} the bare commit hash, nothing else in snapshots/ and blobs/.
     */
    public static void assertOfficialLayout(Path cache, String repoId, FakeHub.Repo repo, String revision) throws IOException {
        Path dir = cache.resolve("models--" + repoId.replace("/", "--"));
        assertTrue(Files.isDirectory(dir), dir + " missing");
        if (!revision.equals(repo.commit())) {
            Path ref = dir.resolve("refs").resolve(revision);
            assertArrayEquals(repo.commit().getBytes(StandardCharsets.US_ASCII), Files.readAllBytes(ref), "refs/" + revision);
        }
        Path snapshot = dir.resolve("snapshots").resolve(repo.commit());
        Set<String> expectedBlobs = new TreeSet<>();
        for (Map.Entry<String, byte[]> f : repo.files().entrySet()) {
            String etag = FakeHub.etagOf(f.getKey(), f.getValue());
            expectedBlobs.add(etag);
            Path pointer = snapshot.resolve(f.getKey());
            assertTrue(Files.isSymbolicLink(pointer), pointer + " is not a symlink");
            int depth = f.getKey().split("/").length - 1;
            assertEquals(Path.of("../".repeat(depth + 2) + "blobs/" + etag), Files.readSymbolicLink(pointer), f.getKey());
            assertEquals(dir.resolve("blobs").resolve(etag).toRealPath(), pointer.toRealPath(), f.getKey());
            assertArrayEquals(f.getValue(), Files.readAllBytes(pointer), f.getKey());
        }
        try (Stream<Path> s = Files.list(dir.resolve("blobs"))) {
            assertEquals(expectedBlobs, new TreeSet<>(s.map(p -> p.getFileName().toString()).toList()), "blobs/");
        }
        try (Stream<Path> s = Files.walk(snapshot)) {
            Set<String> names = new TreeSet<>(s.filter(p -> !Files.isDirectory(p)).map(p -> snapshot.relativize(p).toString()).toList());
            assertEquals(repo.files().keySet(), names, "snapshot files");
        }
        try (Stream<Path> s = Files.list(dir.resolve("snapshots"))) {
            assertFalse(s.anyMatch(p -> !p.getFileName().toString().equals(repo.commit())), "only the pulled commit is in snapshots/");
        }
    }
}
