package org.paligemma4j.testing;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A stand-in for the Hugging Face Hub on two localhost ports, serving fixture model folders with the Hub's
 * real answers: {@code /api/models/owner/name/revision/rev} (commit {@code sha} and {@code siblings}),
 * {@code HEAD/GET /owner/name/resolve/rev/file} with {@code X-Repo-Commit} and an ETag (the git blob id for small
 * files; for LFS files {@code X-Linked-Etag} = SHA-256, {@code X-Linked-Size} and a 302 to the second, "storage"
 * port), {@code Range}, gated repositories (401/403 with {@code X-Error-Code: GatedRepo}), missing repositories and
 * revisions (404 with {@code RepoNotFound}/{@code RevisionNotFound}). Tests switch faults on: a transfer cut
 * mid-file, a stalled transfer, a corrupted blob, rewritten API answers or headers. Every request is logged.
 */
public final class FakeHub implements AutoCloseable {
    public static final String TOKEN = "hf_fakeHubTestToken";
    private static final Set<String> LFS_EXTENSIONS = Set.of("safetensors", "model", "npz", "bin");
    private static final Pattern RESOLVE = Pattern.compile("/([^/]+)/([^/]+)/resolve/([^/]+)/(.+)");
    private static final Pattern API = Pattern.compile("/api/models/([^/]+)/([^/]+)/revision/([^/]+)");
    private static final Pattern TREE = Pattern.compile("/api/models/([^/]+)/([^/]+)/tree/([^/]+)");
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    /** One logged request. */
    public record Request(String server, String method, String path, String authorization, String range) {}

    /** A served repository: files by name, one commit, branches and tags pointing at it, maybe gated. */
    public static final class Repo {
        final String id;
        final String commit;
        final Map<String, byte[]> files = new TreeMap<>();
        final Set<String> refs = ConcurrentHashMap.newKeySet();
        volatile boolean gated;

        Repo(String id, String commit) {
            this.id = id;
            this.commit = commit;
            refs.add("main");
        }

        public String commit() {
            return commit;
        }

        public Map<String, byte[]> files() {
            return files;
        }

        public Repo gated() {
            gated = true;
            return this;
        }

        public Repo tag(String name) {
            refs.add(name);
            return this;
        }
    }

    private final HttpServer hub;
    private final HttpServer storage;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-hub");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobsBySha = new ConcurrentHashMap<>();
    private final List<Request> log = new ArrayList<>();
    private final Map<String, Integer> cutAfter = new ConcurrentHashMap<>();
    private final Map<String, Integer> stallAfter = new ConcurrentHashMap<>();
    private final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    private final CountDownLatch closing = new CountDownLatch(1);
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private volatile UnaryOperator<byte[]> apiBody = UnaryOperator.identity();
    private volatile BiConsumer<String, Headers> resolveHeaders = (file, h) -> {};
    private volatile int storageDelayMillis;
    private volatile boolean ignoreRange;

    /** Host of the storage port: 127.0.0.1 in tests; FakeHubMain may pick another loopback address. */
    private final String storageHost;

    private FakeHub(String storageHost) throws IOException {
        this.storageHost = storageHost;
        InetSocketAddress local = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        hub = HttpServer.create(local, 0);
        storage = HttpServer.create(new InetSocketAddress(InetAddress.getByName(storageHost), 0), 0);
        hub.setExecutor(executor);
        storage.setExecutor(executor);
        hub.createContext("/", this::handleHub);
        storage.createContext("/", this::handleStorage);
        hub.start();
        storage.start();
    }

    public static FakeHub start() throws IOException {
        return new FakeHub("127.0.0.1");
    }

    /** As {@link #start()} with the storage port on another loopback address (clients that compare host names only). */
    public static FakeHub start(String storageHost) throws IOException {
        return new FakeHub(storageHost);
    }

    /** What HF_ENDPOINT should say to reach this Hub. */
    public String endpoint() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    public int storagePort() {
        return storage.getAddress().getPort();
    }

    /** Serves every file of {@code dir} as repository {@code id} at a commit derived from the id. */
    public Repo addRepo(String id, Path dir) throws IOException {
        Repo repo = new Repo(id, hex("SHA-1", ("commit of " + id).getBytes(StandardCharsets.UTF_8)));
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                byte[] bytes = Files.readAllBytes(f);
                String name = dir.relativize(f).toString().replace('\\', '/');
                repo.files.put(name, bytes);
                if (isLfs(name)) blobsBySha.put(hex("SHA-256", bytes), bytes);
            }
        }
        repos.put(id, repo);
        return repo;
    }

    public static boolean isLfs(String file) {
        int dot = file.lastIndexOf('.');
        return dot >= 0 && LFS_EXTENSIONS.contains(file.substring(dot + 1));
    }

    /** The ETag the Hub gives a file: SHA-256 for LFS files, the git blob id (SHA-1 of "blob N\0" + bytes) otherwise. */
    public static String etagOf(String file, byte[] bytes) {
        if (isLfs(file)) return hex("SHA-256", bytes);
        byte[] header = ("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[header.length + bytes.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(bytes, 0, all, header.length, bytes.length);
        return hex("SHA-1", all);
    }

    /** The first full transfer of {@code file} breaks off after {@code bytes} bytes (later ones, e.g. resumed, do not). */
    public void cutTransfer(String file, int bytes) {
        cutAfter.put(file, bytes);
    }

    /** Transfers of {@code file} send {@code bytes} bytes and then nothing, holding the connection open. */
    public void stallTransfer(String file, int bytes) {
        stallAfter.put(file, bytes);
    }

    /** {@code file} is served with one byte changed (its ETag still announces the true SHA-256). */
    public void corrupt(String file) {
        corrupt.add(file);
    }

    /** Rewrites every API answer's body (for malformed-response tests). */
    public void rewriteApiAnswers(UnaryOperator<byte[]> rewrite) {
        apiBody = rewrite;
    }

    /** Edits the headers of every resolve answer (HEAD and GET) just before they are sent. */
    public void rewriteResolveHeaders(BiConsumer<String, Headers> rewrite) {
        resolveHeaders = rewrite;
    }

    /** Answers every Range request with the whole file (200), as some mirrors and proxies do. */
    public void ignoreRange() {
        ignoreRange = true;
    }

    /** The storage port waits this long before each transfer, so parallel downloads overlap measurably. */
    public void delayStorage(int millis) {
        storageDelayMillis = millis;
    }

    /** The most storage transfers that were in progress at once. */
    public int maxParallelTransfers() {
        return maxInFlight.get();
    }

    public List<Request> requests() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    public void clearRequests() {
        synchronized (log) {
            log.clear();
        }
    }

    private void record(String server, HttpExchange ex) {
        Headers h = ex.getRequestHeaders();
        synchronized (log) {
            log.add(new Request(server, ex.getRequestMethod(), ex.getRequestURI().getRawPath(), h.getFirst("Authorization"), h.getFirst("Range")));
        }
    }

    private void handleHub(HttpExchange ex) throws IOException {
        try (ex) {
            record("hub", ex);
            String path = ex.getRequestURI().getRawPath();
            Matcher api = API.matcher(path);
            Matcher resolve = RESOLVE.matcher(path);
            if (api.matches() && ex.getRequestMethod().equals("GET")) {
                Repo repo = access(ex, decode(api.group(1)) + "/" + decode(api.group(2)), false);
                if (repo == null) return;
                String commit = commitOf(repo, decode(api.group(3)));
                if (commit == null) {
                    error(ex, 404, "RevisionNotFound", "Invalid rev id: " + decode(api.group(3)));
                    return;
                }
                StringBuilder json = new StringBuilder("{\"_id\":\"0123456789abcdef01234567\",\"id\":\"").append(repo.id)
                        .append("\",\"modelId\":\"").append(repo.id).append("\",\"private\":false,\"gated\":")
                        .append(repo.gated ? "\"manual\"" : "false").append(",\"sha\":\"").append(commit).append("\",\"siblings\":[");
                boolean first = true;
                for (String f : repo.files.keySet()) {
                    json.append(first ? "" : ",").append("{\"rfilename\":\"").append(f).append("\"}");
                    first = false;
                }
                json.append("],\"tags\":[\"transformers\"],\"pipeline_tag\":\"image-text-to-text\"}");
                byte[] body = apiBody.apply(json.toString().getBytes(StandardCharsets.UTF_8));
                ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
                ex.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
                ex.getResponseBody().write(body);
            } else if (TREE.matcher(path).matches() && ex.getRequestMethod().equals("GET")) {
                // The recursive file listing newer official clients read after pinning the commit.
                Matcher tree = TREE.matcher(path);
                tree.matches();
                Repo repo = access(ex, decode(tree.group(1)) + "/" + decode(tree.group(2)), false);
                if (repo == null) return;
                if (commitOf(repo, decode(tree.group(3))) == null) {
                    error(ex, 404, "RevisionNotFound", "Invalid rev id");
                    return;
                }
                StringBuilder json = new StringBuilder("[");
                for (Map.Entry<String, byte[]> f : repo.files.entrySet()) {
                    if (json.length() > 1) json.append(',');
                    byte[] b = f.getValue();
                    boolean lfs = isLfs(f.getKey());
                    String pointer = lfsPointer(b);
                    json.append("{\"type\":\"file\",\"oid\":\"").append(etagOf(lfs ? f.getKey() + ".pointer" : f.getKey(), lfs ? pointer.getBytes(StandardCharsets.UTF_8) : b))
                            .append("\",\"size\":").append(b.length).append(",\"path\":\"").append(f.getKey()).append('"');
                    if (lfs) json.append(",\"lfs\":{\"oid\":\"").append(hex("SHA-256", b)).append("\",\"size\":").append(b.length).append(",\"pointerSize\":").append(pointer.length()).append('}');
                    json.append('}');
                }
                byte[] body = json.append(']').toString().getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
            } else if (resolve.matches() && (ex.getRequestMethod().equals("GET") || ex.getRequestMethod().equals("HEAD"))) {
                Repo repo = access(ex, decode(resolve.group(1)) + "/" + decode(resolve.group(2)), true);
                if (repo == null) return;
                String commit = commitOf(repo, decode(resolve.group(3)));
                if (commit == null) {
                    error(ex, 404, "RevisionNotFound", "Invalid rev id");
                    return;
                }
                String file = decode(resolve.group(4));
                byte[] bytes = repo.files.get(file);
                if (bytes == null) {
                    ex.getResponseHeaders().set("X-Repo-Commit", commit);
                    error(ex, 404, "EntryNotFound", "Entry not found");
                    return;
                }
                Headers h = ex.getResponseHeaders();
                h.set("X-Repo-Commit", commit);
                if (isLfs(file)) {
                    String sha = hex("SHA-256", bytes);
                    h.set("X-Linked-Etag", "\"" + sha + "\"");
                    h.set("X-Linked-Size", Long.toString(bytes.length));
                    h.set("ETag", "\"" + etagOf(file + ".pointer", lfsPointer(bytes).getBytes(StandardCharsets.UTF_8)) + "\"");
                    h.set("Location", "http://" + storageHost + ":" + storagePort() + "/repos/" + repo.id.replace('/', '-') + "/" + sha
                            + "?X-Amz-Signature=fake&response-content-disposition=attachment%3B%20filename%3D%22" + file.replace("/", "%2F") + "%22");
                    resolveHeaders.accept(file, h);
                    byte[] page = ("Found. Redirecting to " + h.getFirst("Location")).getBytes(StandardCharsets.UTF_8);
                    if (ex.getRequestMethod().equals("HEAD")) {
                        h.set("Content-Length", Integer.toString(page.length));
                        ex.sendResponseHeaders(302, -1);
                    } else {
                        ex.sendResponseHeaders(302, page.length);
                        ex.getResponseBody().write(page);
                    }
                } else {
                    h.set("ETag", "\"" + etagOf(file, bytes) + "\"");
                    h.set("Accept-Ranges", "bytes");
                    serveBytes(ex, file, bytes, true);
                }
            } else {
                error(ex, 404, null, "Not Found");
            }
        } catch (IOException | RuntimeException e) {
            // the client went away or a fault was injected: nothing to answer
        }
    }

    private void handleStorage(HttpExchange ex) throws IOException {
        try (ex) {
            record("storage", ex);
            String path = ex.getRequestURI().getRawPath();
            String sha = path.substring(path.lastIndexOf('/') + 1);
            byte[] bytes = blobsBySha.get(sha);
            if (bytes == null || !(ex.getRequestMethod().equals("GET") || ex.getRequestMethod().equals("HEAD"))) {
                error(ex, 403, null, "AccessDenied");
                return;
            }
            String file = fileWithSha(sha);
            int now = inFlight.incrementAndGet();
            maxInFlight.accumulateAndGet(now, Math::max);
            try {
                if (storageDelayMillis > 0) Thread.sleep(storageDelayMillis);
                ex.getResponseHeaders().set("ETag", "\"" + sha + "\"");
                ex.getResponseHeaders().set("Accept-Ranges", "bytes");
                serveBytes(ex, file, bytes, false);
            } finally {
                inFlight.decrementAndGet();
            }
        } catch (IOException | RuntimeException e) {
            // the client went away or a fault was injected
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String fileWithSha(String sha) {
        for (Repo r : repos.values()) {
            for (Map.Entry<String, byte[]> f : r.files.entrySet()) {
                if (isLfs(f.getKey()) && hex("SHA-256", f.getValue()).equals(sha)) return f.getKey();
            }
        }
        return "";
    }

    /** Sends {@code bytes} (or the requested range of them), applying the faults set for {@code file}. */
    private void serveBytes(HttpExchange ex, String file, byte[] bytes, boolean applyHeaderRewrite) throws IOException {
        if (applyHeaderRewrite) resolveHeaders.accept(file, ex.getResponseHeaders());
        if (ex.getRequestMethod().equals("HEAD")) {
            if (!ex.getResponseHeaders().containsKey("Content-Length")) {
                ex.getResponseHeaders().set("Content-Length", Integer.toString(bytes.length));
            }
            ex.sendResponseHeaders(200, -1);
            return;
        }
        byte[] served = bytes;
        if (corrupt.contains(file)) {
            served = bytes.clone();
            served[served.length / 2] ^= 0x5A;
        }
        int from = 0;
        String range = ignoreRange ? null : ex.getRequestHeaders().getFirst("Range");
        if (range != null) {
            Matcher m = RANGE.matcher(range);
            if (m.matches()) {
                long start = Long.parseLong(m.group(1));
                if (start >= served.length) {
                    ex.getResponseHeaders().set("Content-Range", "bytes */" + served.length);
                    ex.sendResponseHeaders(416, -1);
                    return;
                }
                from = (int) start;
                ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (served.length - 1) + "/" + served.length);
            }
        }
        ex.sendResponseHeaders(from > 0 ? 206 : 200, served.length - from);
        OutputStream out = ex.getResponseBody();
        Integer cut = from == 0 ? cutAfter.remove(file) : null;
        Integer stall = stallAfter.get(file);
        int end = served.length;
        if (cut != null) end = Math.min(end, from + cut);
        if (stall != null) end = Math.min(end, from + stall);
        out.write(served, from, end - from);
        out.flush();
        if (stall != null) {
            try {
                closing.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("stalled transfer ends");
        }
        if (cut != null && end < served.length) {
            // Closing with fewer bytes than Content-Length drops the connection: the client sees the transfer break.
            throw new IOException("cut transfer");
        }
    }

    /**
     * The repository if the request may see it; otherwise answers as the Hub does and returns null. A gated
     * repository's metadata is public; its files ({@code content}) need the token of someone who accepted the license.
     */
    private Repo access(HttpExchange ex, String id, boolean content) throws IOException {
        Repo repo = repos.get(id);
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (repo == null) {
            // The Hub does not reveal whether a repository exists to anonymous callers: 401, with the reason in a header.
            error(ex, auth == null ? 401 : 404, "RepoNotFound", "Repository not found");
            return null;
        }
        if (content && repo.gated && !("Bearer " + TOKEN).equals(auth)) {
            error(ex, auth == null ? 401 : 403, "GatedRepo", "Access to model " + id + " is restricted. You must have access to it and be authenticated to access it. Please log in.");
            return null;
        }
        return repo;
    }

    /** The git-lfs pointer file git stores in place of a large file (its git blob id is the redirect's ETag). */
    private static String lfsPointer(byte[] bytes) {
        return "version https://git-lfs.github.com/spec/v1\noid sha256:" + hex("SHA-256", bytes) + "\nsize " + bytes.length + "\n";
    }

    private static String commitOf(Repo repo, String revision) {
        if (revision.equals(repo.commit) || repo.refs.contains(revision)) return repo.commit;
        return null;
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        if (code != null) ex.getResponseHeaders().set("X-Error-Code", code);
        ex.getResponseHeaders().set("X-Error-Message", message);
        byte[] body = ("{\"error\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
        } else {
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    public static String hex(String algorithm, byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        closing.countDown();
        hub.stop(0);
        storage.stop(0);
        executor.shutdownNow();
    }

    /** Reads a whole file, for tests comparing cache contents. */
    public static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
