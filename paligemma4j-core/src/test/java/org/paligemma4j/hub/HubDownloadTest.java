package org.paligemma4j.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.paligemma4j.hub.HubTesting.assertOfficialLayout;
import static org.paligemma4j.hub.HubTesting.env;
import static org.paligemma4j.hub.HubTesting.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.testing.FakeHub;
import org.paligemma4j.testing.Fixtures;

@Timeout(120)
class HubDownloadTest {
    @TempDir
    Path cache;

    FakeHub fake;
    FakeHub.Repo tiny;
    FakeHub.Repo sharded;

    @BeforeEach
    void startHub() throws IOException {
        fake = FakeHub.start();
        tiny = fake.addRepo("google/paligemma-tiny", Fixtures.path("paligemma-tiny")).tag("v1.0");
        sharded = fake.addRepo("google/paligemma2-tiny-bf16", Fixtures.path("paligemma2-tiny-bf16"));
    }

    @AfterEach
    void stopHub() {
        fake.close();
    }

    private long storageRequests() {
        return fake.requests().stream().filter(r -> r.server().equals("storage")).count();
    }

    @Test
    void pullWritesTheOfficialCacheLayoutFileByFile() throws IOException {
        try (Hub hub = hub(env(fake, cache))) {
            Hub.Snapshot s = hub.download(HubId.parse("google/paligemma-tiny"));
            assertEquals(tiny.commit(), s.commit());
            assertEquals(cache.resolve("models--google--paligemma-tiny/snapshots/" + tiny.commit()), s.dir());
            long total = tiny.files().values().stream().mapToLong(b -> b.length).sum();
            assertEquals(total, s.bytesDownloaded());
        }
        assertOfficialLayout(cache, "google/paligemma-tiny", tiny, "main");
        assertTrue(Files.isRegularFile(cache.resolve(".locks/models--google--paligemma-tiny/"
                + FakeHub.etagOf("model.safetensors", tiny.files().get("model.safetensors")) + ".lock")));
    }

    @Test
    void lfsFilesAreRedirectedToTheStorageHostAndGetNoToken() throws IOException {
        tiny.gated();
        try (Hub hub = hub(env(fake, cache).withToken(FakeHub.TOKEN))) {
            hub.download(HubId.parse("google/paligemma-tiny"));
        }
        List<FakeHub.Request> storage = fake.requests().stream().filter(r -> r.server().equals("storage")).toList();
        assertEquals(List.of("GET", "GET"), storage.stream().map(FakeHub.Request::method).toList(), "model.safetensors and tokenizer.model");
        for (FakeHub.Request r : storage) assertNull(r.authorization(), "token sent to the storage host: " + r);
        for (FakeHub.Request r : fake.requests()) {
            if (r.server().equals("hub")) assertEquals("Bearer " + FakeHub.TOKEN, r.authorization(), r.toString());
        }
        assertOfficialLayout(cache, "google/paligemma-tiny", tiny, "main");
    }

    @Test
    void shardedModelDownloadsItsShardsInParallelAndVerifiesEach() throws IOException {
        fake.delayStorage(300);
        try (Hub hub = hub(env(fake, cache))) {
            hub.download(HubId.parse("google/paligemma2-tiny-bf16"));
        }
        assertOfficialLayout(cache, "google/paligemma2-tiny-bf16", sharded, "main");
        assertTrue(fake.maxParallelTransfers() >= 2, "at most " + fake.maxParallelTransfers() + " transfer at once");
        assertEquals(5, storageRequests(), "4 shards and tokenizer.model, each once");
    }

    @Test
    void tagAndCommitRevisionsResolveAndOnlyNamedRevisionsGetARef() throws IOException {
        try (Hub hub = hub(env(fake, cache))) {
            hub.download(HubId.parse("google/paligemma-tiny@v1.0"));
            assertOfficialLayout(cache, "google/paligemma-tiny", tiny, "v1.0");
            hub.download(HubId.parse("google/paligemma-tiny@" + tiny.commit()));
        }
        try (Stream<Path> refs = Files.list(cache.resolve("models--google--paligemma-tiny/refs"))) {
            assertEquals(List.of("v1.0"), refs.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void gatedRepoWithoutTokenSaysToAcceptTheLicenseAndSetAToken() {
        tiny.gated();
        HubException e = assertThrows(HubException.class, () -> {
            try (Hub hub = hub(env(fake, cache))) {
                hub.download(HubId.parse("google/paligemma-tiny"));
            }
        });
        assertEquals(HubException.Reason.ACCESS_DENIED, e.reason());
        assertTrue(e.getMessage().contains("license on " + fake.endpoint() + "/google/paligemma-tiny"), e.getMessage());
        assertTrue(e.getMessage().contains("HF_TOKEN"), e.getMessage());
        assertTrue(e.getMessage().contains("no token"), e.getMessage());
        assertFalse(Files.exists(cache.resolve("models--google--paligemma-tiny/snapshots")));
    }

    @Test
    void gatedRepoWithATokenLackingAccessSaysSo() {
        tiny.gated();
        HubException e = assertThrows(HubException.class, () -> {
            try (Hub hub = hub(env(fake, cache).withToken("hf_someoneElse"))) {
                hub.download(HubId.parse("google/paligemma-tiny"));
            }
        });
        assertEquals(HubException.Reason.ACCESS_DENIED, e.reason());
        assertTrue(e.getMessage().contains("the token in use has no access"), e.getMessage());
        assertTrue(e.getMessage().contains("HTTP 403"), e.getMessage());
    }

    @Test
    void missingRevisionIsNotFoundWithItsOwnMessage() {
        HubException e = assertThrows(HubException.class, () -> {
            try (Hub hub = hub(env(fake, cache))) {
                hub.download(HubId.parse("google/paligemma-tiny@no-such-branch"));
            }
        });
        assertEquals(HubException.Reason.NOT_FOUND, e.reason());
        assertTrue(e.getMessage().contains("has no revision 'no-such-branch'"), e.getMessage());
    }

    @Test
    void missingRepoIsNotFoundWithAndWithoutToken() {
        for (String token : new String[] {null, FakeHub.TOKEN}) {
            HubException e = assertThrows(HubException.class, () -> {
                try (Hub hub = hub(env(fake, cache).withToken(token))) {
                    hub.download(HubId.parse("google/no-such-model"));
                }
            });
            assertEquals(HubException.Reason.NOT_FOUND, e.reason(), e.getMessage());
            assertTrue(e.getMessage().contains("no model google/no-such-model on " + fake.endpoint()), e.getMessage());
        }
    }

    @Test
    void transferCutMidFileIsResumedWithRangeAndVerified() throws IOException {
        fake.cutTransfer("model.safetensors", 300_000);
        try (Hub hub = hub(env(fake, cache))) {
            hub.download(HubId.parse("google/paligemma-tiny"));
        }
        List<FakeHub.Request> ranged = fake.requests().stream().filter(r -> r.range() != null).toList();
        assertEquals(1, ranged.size(), fake.requests().toString());
        assertEquals("bytes=300000-", ranged.getFirst().range());
        assertEquals("storage", ranged.getFirst().server());
        assertOfficialLayout(cache, "google/paligemma-tiny", tiny, "main");
    }

    @Test
    void incompleteDownloadLeftBehindIsResumedFromWhereItStopped() throws IOException {
        byte[] model = tiny.files().get("model.safetensors");
        String sha = FakeHub.etagOf("model.safetensors", model);
        Path part = cache.resolve("models--google--paligemma-tiny/blobs/" + sha + ".incomplete");
        Files.createDirectories(part.getParent());
        Files.write(part, java.util.Arrays.copyOf(model, 5000));
        try (Hub hub = hub(env(fake, cache))) {
            Hub.Snapshot s = hub.download(HubId.parse("google/paligemma-tiny"));
            long total = tiny.files().values().stream().mapToLong(b -> b.length).sum();
            assertEquals(total - 5000, s.bytesDownloaded());
        }
        assertTrue(fake.requests().stream().anyMatch(r -> "bytes=5000-".equals(r.range())), fake.requests().toString());
        assertOfficialLayout(cache, "google/paligemma-tiny", tiny, "main");
    }

    @Test
    void serverIgnoringRangeMakesTheDownloadStartOver() throws IOException {
        fake.ignoreRange();
        byte[] model = tiny.files().get("model.safetensors");
        Path part = cache.resolve("models--google--paligemma-tiny/blobs/" + FakeHub.etagOf("model.safetensors", model) + ".incomplete");
        Files.createDirectories(part.getParent());
        Files.write(part, java.util.Arrays.copyOf(model, 5000));
        try (Hub hub = hub(env(fake, cache))) {
            hub.download(HubId.parse("google/paligemma-tiny"));
        }
        assertTrue(fake.requests().stream().anyMatch(r -> "bytes=5000-".equals(r.range())));
        assertOfficialLayout(cache, "google/paligemma-tiny", tiny, "main");
    }

    @Test
    void corruptedBlobIsRefusedBySha256AndNeverPublished() throws IOException {
        fake.corrupt("model.safetensors");
        String sha = FakeHub.etagOf("model.safetensors", tiny.files().get("model.safetensors"));
        HubException e = assertThrows(HubException.class, () -> {
            try (Hub hub = hub(env(fake, cache))) {
                hub.download(HubId.parse("google/paligemma-tiny"));
            }
        });
        assertEquals(HubException.Reason.VERIFICATION_FAILED, e.reason());
        assertTrue(e.getMessage().contains("SHA-256") && e.getMessage().contains(sha), e.getMessage());
        Path repo = cache.resolve("models--google--paligemma-tiny");
        assertFalse(Files.exists(repo.resolve("blobs/" + sha)));
        assertFalse(Files.exists(repo.resolve("blobs/" + sha + ".incomplete")));
        assertFalse(Files.exists(repo.resolve("snapshots/" + tiny.commit() + "/model.safetensors"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(repo.resolve("refs/main")), "a failed pull records no ref");
        try (Hub hub = hub(env(fake, cache))) {
            assertThrows(HubException.class, () -> hub.cachedSnapshot(HubId.parse("google/paligemma-tiny")));
        }
    }

    /** The cache as huggingface_hub's snapshot_download leaves it, built by hand from the fixture. */
    private void writePythonStyleCache(FakeHub.Repo repo, String repoId) throws IOException {
        Path dir = cache.resolve("models--" + repoId.replace("/", "--"));
        for (Map.Entry<String, byte[]> f : repo.files().entrySet()) {
            String etag = FakeHub.etagOf(f.getKey(), f.getValue());
            Path blob = dir.resolve("blobs").resolve(etag);
            Files.createDirectories(blob.getParent());
            Files.write(blob, f.getValue());
            Path pointer = dir.resolve("snapshots").resolve(repo.commit()).resolve(f.getKey());
            Files.createDirectories(pointer.getParent());
            Files.createSymbolicLink(pointer, pointer.getParent().relativize(blob));
        }
        Files.createDirectories(dir.resolve("refs"));
        Files.writeString(dir.resolve("refs/main"), repo.commit(), StandardCharsets.US_ASCII);
    }

    @Test
    void modelCachedByPythonIsUsedWithoutDownloadingAByte() throws IOException {
        writePythonStyleCache(sharded, "google/paligemma2-tiny-bf16");
        try (Hub hub = hub(env(fake, cache))) {
            Hub.Snapshot s = hub.download(HubId.parse("google/paligemma2-tiny-bf16"));
            assertEquals(0, s.bytesDownloaded());
        }
        assertEquals(List.of("GET /api/models/google/paligemma2-tiny-bf16/revision/main"),
                fake.requests().stream().map(r -> r.method() + " " + r.path()).toList());
        assertOfficialLayout(cache, "google/paligemma2-tiny-bf16", sharded, "main");
    }

    @Test
    void blobsAlreadyCachedForAnotherCommitAreLinkedNotDownloaded() throws IOException {
        try (Hub hub = hub(env(fake, cache))) {
            hub.download(HubId.parse("google/paligemma-tiny"));
        }
        // Same files, another commit: only HEAD requests, no transfer.
        FakeHub.Repo copy = fake.addRepo("google/paligemma-tiny", Fixtures.path("paligemma-tiny"));
        assertEquals(tiny.commit(), copy.commit());
        Files.delete(cache.resolve("models--google--paligemma-tiny/snapshots/" + tiny.commit() + "/config.json"));
        fake.clearRequests();
        try (Hub hub = hub(env(fake, cache))) {
            assertEquals(0, hub.download(HubId.parse("google/paligemma-tiny")).bytesDownloaded());
        }
        assertEquals(List.of("GET", "HEAD"), fake.requests().stream().map(FakeHub.Request::method).toList());
        assertOfficialLayout(cache, "google/paligemma-tiny", tiny, "main");
    }

    @Test
    void offlineReadsTheCacheWithZeroRequests() throws IOException {
        try (Hub hub = hub(env(fake, cache))) {
            hub.download(HubId.parse("google/paligemma-tiny@v1.0"));
        }
        fake.clearRequests();
        try (Hub hub = hub(env(fake, cache).withOffline(true))) {
            Path expected = cache.resolve("models--google--paligemma-tiny/snapshots/" + tiny.commit());
            assertEquals(expected, hub.snapshot(HubId.parse("google/paligemma-tiny@v1.0")));
            assertEquals(expected, hub.snapshot(HubId.parse("google/paligemma-tiny@" + tiny.commit())));
            assertEquals(expected, hub.locate("google/paligemma-tiny@v1.0"));
        }
        assertEquals(List.of(), fake.requests());
    }

    @Test
    void offlineWithoutTheModelCachedSaysSoClearly() {
        try (Hub hub = hub(env(fake, cache).withOffline(true))) {
            HubException e = assertThrows(HubException.class, () -> hub.snapshot(HubId.parse("google/paligemma-tiny")));
            assertEquals(HubException.Reason.NOT_CACHED, e.reason());
            assertTrue(e.getMessage().contains("not in the cache at " + cache.toAbsolutePath()), e.getMessage());
            assertTrue(e.getMessage().contains("HF_HUB_OFFLINE=1"), e.getMessage());
            assertTrue(e.getMessage().contains("paligemma pull google/paligemma-tiny"), e.getMessage());
        }
        assertEquals(List.of(), fake.requests());
    }

    @Test
    void offlineWithAnotherRevisionCachedNamesTheMissingRevision() throws IOException {
        try (Hub hub = hub(env(fake, cache))) {
            hub.download(HubId.parse("google/paligemma-tiny"));
        }
        try (Hub hub = hub(env(fake, cache).withOffline(true))) {
            HubException e = assertThrows(HubException.class, () -> hub.snapshot(HubId.parse("google/paligemma-tiny@v1.0")));
            assertTrue(e.getMessage().contains("but not revision 'v1.0'"), e.getMessage());
        }
    }

    @Test
    void unreachableHubFallsBackToTheCachedSnapshot() throws IOException {
        try (Hub hub = hub(env(fake, cache))) {
            hub.download(HubId.parse("google/paligemma-tiny"));
        }
        String endpoint = fake.endpoint();
        fake.close();
        try (Hub hub = hub(env(fake, cache).withEndpoint(endpoint))) {
            assertEquals(cache.resolve("models--google--paligemma-tiny/snapshots/" + tiny.commit()),
                    hub.snapshot(HubId.parse("google/paligemma-tiny")));
            HubException e = assertThrows(HubException.class, () -> hub.snapshot(HubId.parse("google/paligemma2-tiny-bf16")));
            assertEquals(HubException.Reason.NETWORK, e.reason());
            assertTrue(e.getMessage().contains("cannot connect"), e.getMessage());
        }
    }

    @Test
    void twoConcurrentPullsOfTheSameModelShareTheWorkAndLeaveItWhole() throws Exception {
        fake.delayStorage(200);
        CyclicBarrier start = new CyclicBarrier(2);
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            List<Future<Hub.Snapshot>> pulls = List.of(1, 2).stream().map(i -> pool.submit(() -> {
                try (Hub hub = hub(env(fake, cache))) {
                    start.await();
                    return hub.download(HubId.parse("google/paligemma2-tiny-bf16"));
                }
            })).toList();
            long downloaded = 0;
            for (Future<Hub.Snapshot> p : pulls) downloaded += p.get().bytesDownloaded();
            long total = sharded.files().values().stream().mapToLong(b -> b.length).sum();
            assertTrue(downloaded >= total && downloaded < 2 * total, "downloaded " + downloaded + " of " + total);
        }
        assertOfficialLayout(cache, "google/paligemma2-tiny-bf16", sharded, "main");
        assertEquals(5, storageRequests(), "each LFS blob transferred once: the second pull waited for the lock and reused it");
    }

    @Test
    void concurrentPullsFromSeparateProcessesLeaveTheModelWhole() throws Exception {
        fake.delayStorage(200);
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            processes.add(new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), HubPullProcess.class.getName(),
                    fake.endpoint(), cache.toString(), "google/paligemma2-tiny-bf16").redirectErrorStream(true).start());
        }
        for (Process p : processes) {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
        }
        assertOfficialLayout(cache, "google/paligemma2-tiny-bf16", sharded, "main");
        assertTrue(storageRequests() >= 5 && storageRequests() <= 10, storageRequests() + " transfers");
    }

    @Test
    void downloadWaitsForTheFlockPythonTakesOnTheBlob() throws Exception {
        assertTrue(PythonCompatibleLock.available(), "tests run with --enable-native-access, so the Python-compatible lock is used");
        String sha = FakeHub.etagOf("model.safetensors", tiny.files().get("model.safetensors"));
        Path lockFile = cache.resolve(".locks/models--google--paligemma-tiny/" + sha + ".lock");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process holder = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                PythonLockHolder.class.getName(), lockFile.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            assertEquals("locked", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8)).readLine());
            try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
                Future<Hub.Snapshot> pull = pool.submit(() -> {
                    try (Hub hub = hub(env(fake, cache))) {
                        return hub.download(HubId.parse("google/paligemma-tiny"));
                    }
                });
                Thread.sleep(1500);
                assertFalse(pull.isDone(), "the download must wait while the other process holds the blob's lock");
                assertFalse(Files.exists(cache.resolve("models--google--paligemma-tiny/blobs/" + sha)));
                holder.getOutputStream().close();
                assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
                pull.get(60, TimeUnit.SECONDS);
            }
        } finally {
            holder.destroy();
        }
        assertOfficialLayout(cache, "google/paligemma-tiny", tiny, "main");
    }
}
