package org.paligemma4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Models from the Hugging Face Hub, fetched the way the official {@code huggingface_hub} client fetches them
 * and kept in the cache it shares ({@link HubCache}):
 * <ol>
 *   <li>pin the revision: {@code GET {endpoint}/api/models/owner/name/revision/{rev}} gives the commit
 *       ({@code sha}) and the file list ({@code siblings});</li>
 *   <li>for each file not yet in the snapshot, {@code HEAD {endpoint}/owner/name/resolve/{commit}/{file}} gives its
 *       ETag ({@code X-Linked-Etag} for large LFS files: their SHA-256), size ({@code X-Linked-Size}) and, for LFS
 *       files, a redirect to the storage host;</li>
 *   <li>download under a per-blob lock into {@code blobs/<etag>.incomplete} (resuming with {@code Range}), verify
 *       size and SHA-256, rename to {@code blobs/<etag>}, link {@code snapshots/<commit>/<file>} to it;</li>
 *   <li>record the branch or tag in {@code refs/}.</li>
 * </ol>
 * The token goes only to the endpoint's host, never along a redirect to another host. With
 * {@code HF_HUB_OFFLINE=1} nothing touches the network: revisions resolve through {@code refs/}.
 */
public final class Hub implements AutoCloseable {
    /** API answers (revision info with its file list) larger than this are not the Hub's. */
    private static final int MAX_API_BYTES = 32 << 20;
    private static final int MAX_FILES = 100_000;
    private static final int MAX_ATTEMPTS = 5;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SAFE_ETAG = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HubEnvironment env;
    private final HubCache cache;
    private final DownloadProgress progress;
    private HubHttp http;

    public Hub(HubEnvironment env, DownloadProgress progress) {
        this.env = env;
        this.cache = new HubCache(env.cacheDir());
        this.progress = progress;
    }

    /** The environment's Hub and cache, with progress on stderr. */
    public static Hub fromEnvironment() {
        return new Hub(HubEnvironment.fromSystem(), DownloadProgress.console(System.err));
    }

    public HubEnvironment environment() {
        return env;
    }

    public HubCache cache() {
        return cache;
    }

    /**
     * A model directory for {@code model}: an existing path as it is; otherwise a Hub id {@code owner/name[@rev]},
     * whose snapshot folder is returned (downloaded first when missing and online).
     */
    public Path locate(String model) throws IOException {
        Path local = null;
        try {
            local = Path.of(model);
        } catch (RuntimeException ignored) {
            // not a path on this system: may still be a Hub id
        }
        if (local != null && Files.exists(local)) return local;
        if (!HubId.looksLikeHubId(model)) {
            throw new IOException(model + ": no such file or directory (nor a Hub model id owner/name[@revision])");
        }
        try {
            return snapshot(HubId.parse(model));
        } catch (HubException e) {
            if (e.reason() != HubException.Reason.NOT_FOUND) throw e;
            // A mistyped relative path also reads as owner/name: say both.
            throw new HubException(e.reason(), e.getMessage() + "; nor is '" + model + "' a local directory", e);
        }
    }

    /**
     * The snapshot folder of {@code id}: from the cache alone when offline, else pinned on the Hub and completed
     * from it. When the Hub cannot be reached and the revision is cached, the cached snapshot is used (as the
     * official client does).
     */
    public Path snapshot(HubId id) throws IOException {
        if (env.offline()) return cachedSnapshot(id);
        try {
            return download(id).dir();
        } catch (HubException e) {
            if (e.reason() != HubException.Reason.NETWORK) throw e;
            Optional<Path> cached = cache.snapshot(id);
            if (cached.isEmpty()) throw e;
            progress.note(e.getMessage() + "; using the cached snapshot " + cached.get());
            return cached.get();
        }
    }

    /** The cached snapshot of {@code id}, without any network call, or a {@link HubException} saying it is not cached. */
    public Path cachedSnapshot(HubId id) throws HubException {
        Optional<Path> cached = cache.snapshot(id);
        if (cached.isPresent()) return cached.get();
        String where = Files.isDirectory(cache.repoDir(id))
                ? "the cache at " + cache.root() + " holds " + id.repoId() + " but not revision '" + id.revision() + "'"
                : id.repoId() + " is not in the cache at " + cache.root();
        throw new HubException(HubException.Reason.NOT_CACHED, id + ": " + where
                + (env.offline() ? "; HF_HUB_OFFLINE=1 forbids downloading it: run 'paligemma pull " + id + "' while online" : ""));
    }

    /** What a download did. */
    public record Snapshot(HubId id, String commit, Path dir, List<String> files, long bytesDownloaded) {}

    /** Downloads every file of {@code id}'s revision that the cache lacks, verifies it, and returns the snapshot. */
    public Snapshot download(HubId id) throws IOException {
        if (env.offline()) {
            throw new HubException(HubException.Reason.NOT_CACHED, id + ": HF_HUB_OFFLINE=1 forbids downloading (unset it to pull)");
        }
        HubHttp h = http();
        RevisionInfo info = revisionInfo(h, id);
        List<String> missing = new ArrayList<>();
        for (String file : info.files()) {
            if (!Files.isRegularFile(cache.pointer(id, info.commit(), file))) missing.add(file);
        }
        progress.resolved(id, info.commit(), info.files().size(), missing.size());
        long[] downloaded = {0};
        if (!missing.isEmpty()) {
            try (ExecutorService pool = Executors.newFixedThreadPool(Math.min(env.maxWorkers(), missing.size()),
                    Thread.ofPlatform().name("hub-download-", 0).daemon().factory())) {
                List<FileMeta> metas = runAll(pool, missing.stream().<Callable<FileMeta>>map(f -> () -> head(h, id, info.commit(), f)).toList());
                List<FileMeta> toFetch = new ArrayList<>();
                long bytes = 0;
                for (FileMeta m : metas) {
                    if (Files.isRegularFile(cache.blob(id, m.etag()))) {
                        HubCache.link(cache.pointer(id, info.commit(), m.file()), cache.blob(id, m.etag()));
                    } else {
                        toFetch.add(m);
                        bytes += Math.max(0, m.size());
                    }
                }
                warnIfShortOfSpace(id, bytes);
                progress.started(bytes, toFetch.size());
                List<Long> sizes = runAll(pool, toFetch.stream().<Callable<Long>>map(m -> () -> fetch(h, id, info.commit(), m)).toList());
                for (long s : sizes) downloaded[0] += s;
            }
        }
        cache.writeRef(id, id.revision(), info.commit());
        progress.finished();
        return new Snapshot(id, info.commit(), cache.snapshotDir(id, info.commit()), info.files(), downloaded[0]);
    }

    /** Says so up front when the cache's disk cannot hold the download (as the official client warns; it may still fit). */
    private void warnIfShortOfSpace(HubId id, long bytes) {
        try {
            Path dir = cache.repoDir(id);
            Files.createDirectories(dir);
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < bytes) {
                progress.note(String.format(java.util.Locale.ROOT, "%s: needs %.2f GB but only %.2f GB are free at %s",
                        id, bytes / 1e9, free / 1e9, dir));
            }
        } catch (IOException | RuntimeException e) {
            // the download itself reports a cache that cannot be written
        }
    }

    /** Runs the tasks on the pool; the first failure is thrown once all have ended, the others attached to it. */
    private static <T> List<T> runAll(ExecutorService pool, List<Callable<T>> tasks) throws IOException {
        List<Future<T>> futures;
        try {
            futures = pool.invokeAll(tasks);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(HubException.Reason.NETWORK, "download interrupted", e);
        }
        List<T> results = new ArrayList<>();
        IOException first = null;
        for (Future<T> f : futures) {
            try {
                results.add(f.get());
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                IOException io = c instanceof IOException x ? x : new HubException(HubException.Reason.CACHE,
                        "download failed: " + c, c);
                if (first == null) first = io;
                else if (first != io) first.addSuppressed(io);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(HubException.Reason.NETWORK, "download interrupted", e);
            }
        }
        if (first != null) throw first;
        return results;
    }

    /** A revision pinned to its commit, with the repository's file names. */
    record RevisionInfo(String commit, List<String> files) {}

    RevisionInfo revisionInfo(HubHttp h, HubId id) throws HubException {
        URI uri = h.revisionUri(id);
        String what = id + " (" + uri + ")";
        byte[] body;
        try (HubHttp.Response r = h.follow("GET", uri, what, false)) {
            if (r.status != 200) throw failure(r, id, null, what);
            body = r.readAll(MAX_API_BYTES, what);
        }
        return parseRevision(id, body, what);
    }

    static RevisionInfo parseRevision(HubId id, byte[] body, String what) throws HubException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException | RuntimeException e) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": the answer is not valid JSON ("
                    + firstLine(e.getMessage()) + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": the answer is not a JSON object");
        }
        JsonNode sha = root.get("sha");
        if (sha == null || !sha.isTextual() || !HubId.isCommitHash(sha.textValue())) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": the answer has no commit hash in 'sha'"
                    + (sha == null ? "" : " (found " + HubCache.abbreviate(sha.toString()) + ")"));
        }
        JsonNode siblings = root.get("siblings");
        if (siblings == null || !siblings.isArray()) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": the answer has no file list ('siblings' array)");
        }
        if (siblings.size() > MAX_FILES) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": lists " + siblings.size() + " files, more than " + MAX_FILES);
        }
        Set<String> files = new LinkedHashSet<>();
        for (JsonNode s : siblings) {
            JsonNode name = s.isObject() ? s.get("rfilename") : null;
            if (name == null || !name.isTextual()) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": a 'siblings' entry has no 'rfilename' string ("
                        + HubCache.abbreviate(s.toString()) + ")");
            }
            String problem = fileNameProblem(name.textValue());
            if (problem != null) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": file name '" + HubCache.abbreviate(name.textValue())
                        + "' " + problem);
            }
            files.add(name.textValue());
        }
        if (files.isEmpty()) throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": the repository lists no files");
        return new RevisionInfo(sha.textValue(), List.copyOf(files));
    }

    /** Repository file names become paths under the snapshot folder: relative, '/'-separated, no '..'. */
    private static String fileNameProblem(String name) {
        if (name.isEmpty() || name.length() > 1024) return "is empty or too long";
        if (name.startsWith("/") || name.contains("\\")) return "is not a relative repository path";
        for (String part : name.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) return "is not a plain repository path";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f) return "holds a control character";
        }
        return null;
    }

    /** What the HEAD request says about a file: its ETag (blob name), size (-1 when unknown) and download URL. */
    record FileMeta(String file, String what, String etag, long size, URI location) {
        boolean isLfs() {
            return SHA256.matcher(etag).matches();
        }
    }

    FileMeta head(HubHttp h, HubId id, String commit, String file) throws HubException {
        URI uri = h.resolveUri(id, commit, file);
        String what = id.repoId() + "/" + file;
        try (HubHttp.Response r = h.follow("HEAD", uri, what, true, "Accept-Encoding", "identity")) {
            boolean redirected = HubHttp.isRedirect(r.status);
            if (!redirected && (r.status < 200 || r.status > 299)) throw failure(r, id, file, what);
            String repoCommit = r.header("X-Repo-Commit");
            if (repoCommit == null) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": the answer has no X-Repo-Commit header; "
                        + env.endpoint() + " does not behave like the Hugging Face Hub (check HF_ENDPOINT)");
            }
            if (!repoCommit.equals(commit)) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": asked for commit " + commit + " but the Hub answered for '"
                        + HubCache.abbreviate(repoCommit) + "'");
            }
            String etag = normalizeEtag(r.header("X-Linked-Etag") != null ? r.header("X-Linked-Etag") : r.header("ETag"));
            if (etag == null) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": the answer has no ETag, so the file cannot be verified or cached");
            }
            if (!SAFE_ETAG.matcher(etag).matches()) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": ETag '" + HubCache.abbreviate(etag) + "' is not a file name the cache can use");
            }
            OptionalLong size = r.longHeader("X-Linked-Size", what);
            // A redirect's Content-Length is the redirect page's, not the file's.
            if (size.isEmpty() && !redirected) size = r.longHeader("Content-Length", what);
            URI location = redirected ? HubHttp.resolveLocation(r.uri, r.header("Location"), what) : r.uri;
            return new FileMeta(file, what, etag, size.orElse(-1), location);
        }
    }

    /** The official client's normalisation: drop a weak-validator prefix and the quotes. */
    static String normalizeEtag(String etag) {
        if (etag == null) return null;
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        e = e.replace("\"", "").strip();
        return e.isEmpty() ? null : e;
    }

    /** Downloads one blob (unless another thread or process already has), verifies, publishes; returns bytes fetched. */
    long fetch(HubHttp h, HubId id, String commit, FileMeta m) throws IOException {
        Path blob = cache.blob(id, m.etag());
        Path pointer = cache.pointer(id, commit, m.file());
        long fetched = 0;
        if (!Files.isRegularFile(blob)) {
            try (HubCache.BlobLock lock = cache.lock(id, m.etag())) {
                if (!Files.isRegularFile(blob)) {
                    Path part = cache.incomplete(id, m.etag());
                    fetched = transferWithRetries(h, m, part);
                    verify(m, part);
                    Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE);
                }
            }
        }
        HubCache.link(pointer, blob);
        progress.fileDone(m.file(), Files.size(blob));
        return fetched;
    }

    /** Transfers into {@code part}, resuming with Range after a broken transfer that made progress. */
    private long transferWithRetries(HubHttp h, FileMeta m, Path part) throws IOException {
        long fetched = 0;
        for (int attempt = 1; ; attempt++) {
            long before = Files.exists(part) ? Files.size(part) : 0;
            try {
                fetched += transfer(h, m, part);
                return fetched;
            } catch (HubException e) {
                long after = Files.exists(part) ? Files.size(part) : 0;
                if (e.reason() != HubException.Reason.NETWORK || attempt >= MAX_ATTEMPTS || after <= before) throw e;
                fetched += after - before;
                progress.note(e.getMessage() + "; resuming at byte " + after);
            }
        }
    }

    /** One GET of the rest of the file (from the bytes already in {@code part}); returns the bytes written. */
    private long transfer(HubHttp h, FileMeta m, Path part) throws IOException {
        String what = m.what();
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (m.size() >= 0 && have > m.size()) {
            Files.delete(part);
            have = 0;
        }
        if (m.size() >= 0 && have == m.size() && have > 0) return 0; // whole already; verification decides
        progress.transferred(have);
        String[] headers = have > 0 ? new String[] {"Accept-Encoding", "identity", "Range", "bytes=" + have + "-"}
                : new String[] {"Accept-Encoding", "identity"};
        try (HubHttp.Response r = h.follow("GET", m.location(), what, false, headers)) {
            long start;
            if (r.status == 206) {
                start = rangeStart(r, what);
                if (start != have) {
                    throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": asked for bytes from " + have
                            + " but the server sent them from " + start);
                }
            } else if (r.status == 200) {
                start = 0;
            } else if (r.status == 416 && have > 0) {
                // The server has nothing past what we hold: the part is whole or wrong; start over to be sure.
                Files.delete(part);
                progress.transferred(-have);
                return transfer(h, m, part);
            } else {
                throw failure(r, null, m.file(), what);
            }
            if (start == 0 && have > 0) progress.transferred(-have);
            OptionalLong length = r.longHeader("Content-Length", what);
            long expectedEnd = m.size() >= 0 ? m.size() : length.isPresent() ? start + length.getAsLong() : -1;
            if (length.isPresent() && expectedEnd >= 0 && start + length.getAsLong() != expectedEnd) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": the server sends " + (start + length.getAsLong())
                        + " bytes but the Hub announced " + expectedEnd);
            }
            Files.createDirectories(part.getParent());
            long written = 0;
            try (FileChannel ch = start == 0
                    ? FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)
                    : FileChannel.open(part, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                ByteBuffer b;
                while ((b = r.body().next()) != null) {
                    int n = b.remaining();
                    if (expectedEnd >= 0 && start + written + n > expectedEnd) {
                        r.close();
                        throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": the server sent more than the "
                                + expectedEnd + " bytes announced");
                    }
                    try {
                        while (b.hasRemaining()) ch.write(b);
                    } catch (IOException e) {
                        r.close();
                        throw new HubException(HubException.Reason.CACHE, part + ": cannot write the download ("
                                + e.getMessage() + "); free some space or point HF_HUB_CACHE elsewhere", e);
                    }
                    written += n;
                    progress.transferred(n);
                }
            }
            if (expectedEnd >= 0 && start + written < expectedEnd) {
                throw new HubException(HubException.Reason.NETWORK, what + ": the transfer ended after " + (start + written)
                        + " of " + expectedEnd + " bytes");
            }
            return written;
        }
    }

    private static long rangeStart(HubHttp.Response r, String what) throws HubException {
        String cr = r.header("Content-Range");
        Matcher mm = cr == null ? null : CONTENT_RANGE.matcher(cr);
        if (mm == null || !mm.matches()) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": partial answer (206) with Content-Range '"
                    + (cr == null ? "" : HubCache.abbreviate(cr)) + "'");
        }
        try {
            return Long.parseLong(mm.group(1));
        } catch (NumberFormatException e) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": Content-Range '" + HubCache.abbreviate(cr) + "' is out of range");
        }
    }

    /**
     * Size against the announced size; LFS files (ETag = SHA-256) against their hash. A file that fails is
     * deleted, so a corrupt download is never published nor resumed.
     */
    private static void verify(FileMeta m, Path part) throws IOException {
        long size = Files.size(part);
        if (m.size() >= 0 && size != m.size()) {
            Files.deleteIfExists(part);
            throw new HubException(HubException.Reason.VERIFICATION_FAILED, m.what() + ": downloaded " + size
                    + " bytes but the Hub announced " + m.size() + "; the partial file was deleted, try again");
        }
        if (!m.isLfs()) return;
        String actual = sha256(part);
        if (!actual.equals(m.etag())) {
            Files.deleteIfExists(part);
            throw new HubException(HubException.Reason.VERIFICATION_FAILED, m.what() + ": SHA-256 of the downloaded bytes is " + actual
                    + " but the Hub's ETag says " + m.etag() + "; the corrupt download was deleted and nothing was cached, try again");
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buf) >= 0) {
                buf.flip();
                digest.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * The error for a status the download cannot use, in the user's terms: gated or private (401/403), not found
     * (404: repository, revision or file, as the Hub's X-Error-Code says), or a server problem.
     */
    private HubException failure(HubHttp.Response r, HubId id, String file, String what) throws HubException {
        String code = r.header("X-Error-Code");
        String repo = id == null ? what : id.repoId();
        if ((r.status == 401 || r.status == 403) && !"RepoNotFound".equals(code) && id != null) {
            String tokenState = env.token() == null
                    ? "no token is set (neither HF_TOKEN nor a token file from 'hf auth login')"
                    : "the token in use has no access to it";
            return new HubException(HubException.Reason.ACCESS_DENIED, repo + " is gated or private and " + tokenState
                    + " (HTTP " + r.status + "). Accept the license on " + env.modelPage(id)
                    + " while logged in, create a read token at " + env.endpoint() + "/settings/tokens, and set HF_TOKEN to it.");
        }
        if ((r.status == 401 || r.status == 403) && !http.isEndpointHost(r.uri)) {
            return new HubException(HubException.Reason.NETWORK, what + ": the storage host " + HubHttp.hostOf(r.uri)
                    + " refused the download (HTTP " + r.status + "); its signed link may have expired, try again");
        }
        if ((r.status == 401 || r.status == 403) && !"RepoNotFound".equals(code)) {
            return new HubException(HubException.Reason.ACCESS_DENIED, what + ": access denied (HTTP " + r.status
                    + "); if the model is gated, accept its license on its Hub page and set HF_TOKEN");
        }
        if (r.status == 404 || "RepoNotFound".equals(code)) {
            if ("RevisionNotFound".equals(code) && id != null) {
                return new HubException(HubException.Reason.NOT_FOUND, repo + " has no revision '" + id.revision()
                        + "' (no such branch, tag or commit)");
            }
            if ("EntryNotFound".equals(code) || file != null) {
                return new HubException(HubException.Reason.NOT_FOUND, what + ": no such file in the repository (HTTP " + r.status + ")");
            }
            if ("RepoNotFound".equals(code)) {
                return new HubException(HubException.Reason.NOT_FOUND, "no model " + repo + " on " + env.endpoint()
                        + " (check the id; a private model also needs HF_TOKEN)");
            }
            return new HubException(HubException.Reason.NOT_FOUND, "no model " + repo + " with revision '" + (id == null ? "?" : id.revision())
                    + "' on " + env.endpoint() + " (check the id and the revision)");
        }
        if (r.status == 429 || r.status >= 500) {
            return new HubException(HubException.Reason.NETWORK, what + ": the server answered HTTP " + r.status + "; try again later");
        }
        return new HubException(HubException.Reason.BAD_RESPONSE, what + ": unexpected HTTP " + r.status);
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return HubCache.abbreviate(nl < 0 ? s : s.substring(0, nl));
    }

    private synchronized HubHttp http() throws HubException {
        if (http == null) http = new HubHttp(env);
        return http;
    }

    @Override
    public synchronized void close() {
        if (http != null) http.close();
        http = null;
    }
}
