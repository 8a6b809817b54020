package org.paligemma4j.hub;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The Hugging Face cache, laid out exactly as the official {@code huggingface_hub} client lays it out, so a
 * model downloaded by either side is found by the other:
 * <pre>
 * &lt;cache&gt;/models--owner--name/blobs/&lt;etag&gt;                 file contents, named by the Hub's ETag
 *                                                          (the SHA-256 for LFS files, the git blob id otherwise)
 * &lt;cache&gt;/models--owner--name/snapshots/&lt;commit&gt;/&lt;file&gt;   relative symlink to ../../blobs/&lt;etag&gt;
 * &lt;cache&gt;/models--owner--name/refs/&lt;branch or tag&gt;        the commit hash, no newline
 * &lt;cache&gt;/.locks/models--owner--name/&lt;etag&gt;.lock          held while a blob is being downloaded (a FileChannel
 *                                                          lock, plus Python's flock where native access is on)
 * </pre>
 * A blob is first written to {@code blobs/<etag>.incomplete} (where an interrupted download resumes) and renamed
 * only once verified, so a file in {@code blobs/} or {@code snapshots/} is always whole.
 */
public final class HubCache {
    /** Threads of this JVM share the per-blob lock first: a file lock is held per process, not per thread. */
    private static final ConcurrentHashMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    private static final long LOCK_POLL_MILLIS = 50;

    private final Path root;

    public HubCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    /** {@code <cache>/models--owner--name}. */
    public Path repoDir(HubId id) {
        return root.resolve(id.cacheFolderName());
    }

    Path blob(HubId id, String etag) {
        return repoDir(id).resolve("blobs").resolve(etag);
    }

    Path incomplete(HubId id, String etag) {
        return repoDir(id).resolve("blobs").resolve(etag + ".incomplete");
    }

    Path snapshotDir(HubId id, String commit) {
        return repoDir(id).resolve("snapshots").resolve(commit);
    }

    /**
     * Where a repository file's symlink goes; refuses names that would leave the snapshot folder (the Hub never
     * sends them, a hostile server might).
     */
    Path pointer(HubId id, String commit, String file) throws HubException {
        Path snapshots = repoDir(id).resolve("snapshots");
        Path p = snapshots.resolve(commit).resolve(file).normalize();
        if (!p.startsWith(snapshots.resolve(commit)) || p.equals(snapshots.resolve(commit))) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, id.repoId() + ": file name '" + file + "' points outside the snapshot folder");
        }
        return p;
    }

    Path ref(HubId id, String revision) {
        return repoDir(id).resolve("refs").resolve(revision);
    }

    Path lockFile(HubId id, String etag) {
        return root.resolve(".locks").resolve(id.cacheFolderName()).resolve(etag + ".lock");
    }

    /**
     * The cached snapshot folder of {@code id}'s revision, without any network call: a commit hash names its
     * snapshot directly, a branch or tag is looked up in {@code refs/}.
     */
    public Optional<Path> snapshot(HubId id) throws HubException {
        String commit = commitOf(id);
        if (commit == null) return Optional.empty();
        Path dir = snapshotDir(id, commit);
        return Files.isDirectory(dir) ? Optional.of(dir) : Optional.empty();
    }

    /** The commit {@code id}'s revision is cached as, or null. */
    String commitOf(HubId id) throws HubException {
        if (id.isCommit()) return id.revision();
        Path ref = ref(id, id.revision());
        if (!Files.isRegularFile(ref)) return null;
        try {
            String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
            if (!HubId.isCommitHash(commit)) {
                throw new HubException(HubException.Reason.CACHE, ref + ": holds '" + abbreviate(commit) + "', not a commit hash");
            }
            return commit;
        } catch (IOException e) {
            if (e instanceof HubException h) throw h;
            throw new HubException(HubException.Reason.CACHE, ref + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Records that {@code revision} is {@code commit} (as the official client does: the hash, no newline). */
    void writeRef(HubId id, String revision, String commit) throws IOException {
        if (revision.equals(commit)) return;
        Path ref = ref(id, revision);
        if (Files.isRegularFile(ref) && Files.readString(ref, StandardCharsets.UTF_8).equals(commit)) return;
        Files.createDirectories(ref.getParent());
        Path tmp = ref.resolveSibling(ref.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.writeString(tmp, commit, StandardCharsets.UTF_8);
        Files.move(tmp, ref, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Points {@code pointer} at {@code blob} with a relative symlink ({@code ../../blobs/<etag>}, one more
     * {@code ../} per subfolder), replacing it atomically so a concurrent reader never sees it missing.
     */
    static void link(Path pointer, Path blob) throws IOException {
        Files.createDirectories(pointer.getParent());
        Path target = pointer.getParent().relativize(blob);
        if (Files.isSymbolicLink(pointer) && Files.readSymbolicLink(pointer).equals(target)) return;
        Path tmp = pointer.resolveSibling("." + pointer.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.createSymbolicLink(tmp, target);
        try {
            Files.move(tmp, pointer, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** An exclusive lock on one blob, across the threads of this JVM and across processes. */
    BlobLock lock(HubId id, String etag) throws IOException {
        Path file = lockFile(id, etag);
        Files.createDirectories(file.getParent());
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(file, k -> new ReentrantLock());
        jvmLock.lock();
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            // Polled rather than blocking: the kernel tracks record locks per process, so a blocking wait while other
            // threads of this process hold other blobs' locks can be refused as a deadlock that is not one.
            FileLock lock;
            while ((lock = channel.tryLock()) == null) {
                try {
                    Thread.sleep(LOCK_POLL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while waiting for " + file);
                }
            }
            int flock;
            try {
                flock = PythonCompatibleLock.acquire(file, LOCK_POLL_MILLIS);
            } catch (IOException | RuntimeException e) {
                lock.release();
                throw e;
            }
            return new BlobLock(jvmLock, channel, lock, flock);
        } catch (IOException | RuntimeException e) {
            if (channel != null) channel.close();
            jvmLock.unlock();
            throw e;
        }
    }

    /**
     * Held while a blob is written: the JVM lock (other threads), the FileChannel lock (other JVMs) and, where
     * available, the flock Python's huggingface_hub takes ({@code flock} is -1 when not held). Closing releases them
     * in reverse order.
     */
    record BlobLock(ReentrantLock jvmLock, FileChannel channel, FileLock fileLock, int flock) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                PythonCompatibleLock.release(flock);
                fileLock.release();
            } finally {
                try {
                    channel.close();
                } finally {
                    jvmLock.unlock();
                }
            }
        }
    }

    /** One cached repository. */
    public record CachedModel(String repoId, Path dir, long sizeBytes, List<CachedRevision> revisions) {}

    /** One snapshot of a cached repository and the branches or tags that point at it. */
    public record CachedRevision(String commit, List<String> refs, int files, long sizeBytes) {}

    /** Every model in the cache, sorted by id (folders that are not {@code models--owner--name} are skipped). */
    public List<CachedModel> list() throws IOException {
        List<CachedModel> models = new ArrayList<>();
        if (!Files.isDirectory(root)) return models;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, "models--*")) {
            for (Path dir : dirs) {
                String[] parts = dir.getFileName().toString().substring("models--".length()).split("--", -1);
                if (parts.length != 2 || !Files.isDirectory(dir)) continue;
                String repoId = parts[0] + "/" + parts[1];
                models.add(new CachedModel(repoId, dir, blobBytes(dir.resolve("blobs")), revisions(dir)));
            }
        }
        models.sort(Comparator.comparing(CachedModel::repoId));
        return models;
    }

    private static List<CachedRevision> revisions(Path repo) throws IOException {
        TreeMap<String, List<String>> refsByCommit = new TreeMap<>();
        Path refs = repo.resolve("refs");
        if (Files.isDirectory(refs)) {
            try (Stream<Path> files = Files.walk(refs)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    try {
                        if (Files.size(f) > 1024) continue;
                        String commit = Files.readString(f, StandardCharsets.UTF_8).strip();
                        refsByCommit.computeIfAbsent(commit, c -> new ArrayList<>()).add(refs.relativize(f).toString());
                    } catch (IOException ignored) {
                        // a ref file that cannot be read as text names no revision
                    }
                }
            }
        }
        List<CachedRevision> out = new ArrayList<>();
        Path snapshots = repo.resolve("snapshots");
        if (!Files.isDirectory(snapshots)) return out;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(snapshots)) {
            for (Path snap : dirs) {
                if (!Files.isDirectory(snap)) continue;
                int[] files = {0};
                long[] bytes = {0};
                Set<Path> seen = new HashSet<>();
                try (Stream<Path> walk = Files.walk(snap)) {
                    walk.filter(p -> !Files.isDirectory(p)).forEach(p -> {
                        files[0]++;
                        try {
                            if (Files.exists(p) && seen.add(p.toRealPath())) bytes[0] += Files.size(p);
                        } catch (IOException ignored) {
                            // a dangling link adds no bytes
                        }
                    });
                }
                String commit = snap.getFileName().toString();
                List<String> names = refsByCommit.getOrDefault(commit, List.of());
                names.sort(null);
                out.add(new CachedRevision(commit, names, files[0], bytes[0]));
            }
        }
        out.sort(Comparator.comparing(CachedRevision::commit));
        return out;
    }

    private static long blobBytes(Path blobs) throws IOException {
        if (!Files.isDirectory(blobs)) return 0;
        try (Stream<Path> files = Files.list(blobs)) {
            long total = 0;
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) total += Files.size(f);
            }
            return total;
        }
    }

    /**
     * Deletes a model (every revision, blob and lock) from the cache; false when it was not cached. Symlinks are
     * removed, never followed.
     */
    public boolean remove(HubId id) throws IOException {
        Path repo = repoDir(id);
        if (!Files.exists(repo, LinkOption.NOFOLLOW_LINKS)) return false;
        deleteTree(repo);
        Path locks = root.resolve(".locks").resolve(id.cacheFolderName());
        if (Files.exists(locks, LinkOption.NOFOLLOW_LINKS)) deleteTree(locks);
        return true;
    }

    private static void deleteTree(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) throw e;
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static String abbreviate(String s) {
        String t = s.length() > 60 ? s.substring(0, 60) + "…" : s;
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return b.toString();
    }
}
