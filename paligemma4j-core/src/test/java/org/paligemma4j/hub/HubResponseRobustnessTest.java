package org.paligemma4j.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.paligemma4j.hub.HubTesting.env;
import static org.paligemma4j.hub.HubTesting.hub;

import com.sun.net.httpserver.Headers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.testing.FakeHub;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.Mutator;

/**
 * Malformed Hub answers (mutated API JSON, odd or lying headers, stalled transfers) each end in a
 * {@link HubException} that names the problem, within the timeout: never another exception, a hang, or a
 * half-written file in the cache. {@code -Dpaligemma.hub.mutations=N} runs N mutants (CI: 300).
 */
@Timeout(600)
class HubResponseRobustnessTest {
    private static final int MUTANTS = Integer.getInteger("paligemma.hub.mutations", 300);

    @TempDir
    Path tmp;

    FakeHub fake;
    FakeHub.Repo tiny;

    @BeforeEach
    void startHub() throws IOException {
        fake = FakeHub.start();
        tiny = fake.addRepo("google/paligemma-tiny", Fixtures.path("paligemma-tiny"));
        fake.addRepo("google/paligemma2-tiny-bf16", Fixtures.path("paligemma2-tiny-bf16"));
    }

    @AfterEach
    void stopHub() {
        fake.close();
    }

    private HubEnvironment quick(Path cache) {
        return env(fake, cache).withTimeout(Duration.ofSeconds(2));
    }

    @Test
    void mutatedApiAnswersEndInOurOwnErrorOrAVerifiedDownload() throws IOException {
        byte[] donor = "{\"sha\":\"0000000000000000000000000000000000000000\",\"siblings\":[{\"rfilename\":\"../x\"},{}],\"n\":1e999999}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Map<HubException.Reason, Integer> failures = new EnumMap<>(HubException.Reason.class);
        Map<Mutator.Kind, Integer> kinds = new TreeMap<>();
        int loaded = 0;
        for (int seed = 0; seed < MUTANTS; seed++) {
            Mutator mutator = new Mutator(seed);
            fake.rewriteApiAnswers(original -> mutator.mutate(original, donor));
            String id = seed % 2 == 0 ? "google/paligemma-tiny" : "google/paligemma2-tiny-bf16";
            Path cache = tmp.resolve("cache-" + seed);
            try (Hub hub = hub(quick(cache))) {
                Hub.Snapshot s = hub.download(HubId.parse(id));
                assertSnapshotWhole(s.dir());
                loaded++;
            } catch (HubException e) {
                assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "seed " + seed + ": empty message");
                failures.merge(e.reason(), 1, Integer::sum);
            } catch (Throwable t) {
                fail("seed " + seed + " (" + mutator.lastKind() + "): unexplained " + t, t);
            }
            kinds.merge(mutator.lastKind(), 1, Integer::sum);
            assertNoPartialFiles(cache, seed);
        }
        System.out.printf("hub API mutants: %d (last kinds %s): %d loaded, failures by reason %s%n", MUTANTS, kinds, loaded, failures);
        assertTrue(failures.values().stream().mapToInt(Integer::intValue).sum() > MUTANTS / 2, "most mutants must be refused: " + failures);
    }

    /** Every symlink in a snapshot resolves to a blob (a published file is always whole). */
    private static void assertSnapshotWhole(Path snapshot) throws IOException {
        try (Stream<Path> files = Files.walk(snapshot)) {
            for (Path p : files.filter(Files::isSymbolicLink).toList()) assertTrue(Files.isRegularFile(p), p + " dangles");
        }
    }

    private static void assertNoPartialFiles(Path cache, int seed) throws IOException {
        if (!Files.isDirectory(cache)) return;
        try (Stream<Path> files = Files.walk(cache)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".incomplete")), "seed " + seed + ": .incomplete left");
        }
    }

    @Test
    void oddOrLyingHeadersEndInOurOwnError() throws IOException {
        int modelSize = tiny.files().get("model.safetensors").length;
        Map<String, BiConsumer<String, Headers>> cases = new LinkedHashMap<>();
        cases.put("no X-Repo-Commit", (f, h) -> h.remove("X-Repo-Commit"));
        cases.put("another commit", (f, h) -> h.set("X-Repo-Commit", "1111111111111111111111111111111111111111"));
        cases.put("no ETag", (f, h) -> { if (f.equals("config.json")) h.remove("ETag"); });
        cases.put("ETag with a path", (f, h) -> { if (f.equals("config.json")) h.set("ETag", "\"../../../etc/evil\""); });
        cases.put("empty ETag", (f, h) -> { if (f.equals("config.json")) h.set("ETag", "W/\"\""); });
        cases.put("size not a number", (f, h) -> { if (f.equals("model.safetensors")) h.set("X-Linked-Size", "abc"); });
        cases.put("negative size", (f, h) -> { if (f.equals("model.safetensors")) h.set("X-Linked-Size", "-7"); });
        cases.put("size beyond long", (f, h) -> { if (f.equals("model.safetensors")) h.set("X-Linked-Size", "99999999999999999999999"); });
        cases.put("size too small", (f, h) -> { if (f.equals("model.safetensors")) h.set("X-Linked-Size", Integer.toString(modelSize - 10)); });
        cases.put("size too large", (f, h) -> { if (f.equals("model.safetensors")) h.set("X-Linked-Size", Integer.toString(modelSize + 10)); });
        cases.put("wrong SHA-256", (f, h) -> { if (f.equals("model.safetensors")) h.set("X-Linked-Etag", "\"" + "ab".repeat(32) + "\""); });
        cases.put("redirect to ftp", (f, h) -> { if (f.equals("model.safetensors")) h.set("Location", "ftp://127.0.0.1/blob"); });
        cases.put("redirect to a closed port", (f, h) -> { if (f.equals("model.safetensors")) h.set("Location", "http://127.0.0.1:1/blob"); });
        cases.put("redirect without Location", (f, h) -> { if (f.equals("model.safetensors")) h.remove("Location"); });
        cases.put("redirect loop", (f, h) -> { if (f.equals("model.safetensors")) h.set("Location", "/google/paligemma-tiny/resolve/main/model.safetensors"); });
        cases.put("malformed Location", (f, h) -> { if (f.equals("model.safetensors")) h.set("Location", "http://[::1"); });
        cases.put("storage missing the blob", (f, h) -> { if (f.equals("model.safetensors")) h.set("Location", "http://127.0.0.1:" + fake.storagePort() + "/repos/x/none"); });
        cases.put("Content-Length not a number", (f, h) -> { if (f.equals("config.json")) h.set("Content-Length", "12x"); });
        Map<String, String> outcomes = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, BiConsumer<String, Headers>> c : cases.entrySet()) {
            fake.rewriteResolveHeaders(c.getValue());
            Path cache = tmp.resolve("headers-" + i++);
            long t0 = System.nanoTime();
            try (Hub hub = hub(quick(cache))) {
                hub.download(HubId.parse("google/paligemma-tiny"));
                fail(c.getKey() + ": downloaded despite the bad header");
            } catch (HubException e) {
                outcomes.put(c.getKey(), e.reason() + ": " + e.getMessage());
            } catch (Throwable t) {
                fail(c.getKey() + ": unexplained " + t, t);
            }
            assertTrue(System.nanoTime() - t0 < 30_000_000_000L, c.getKey() + " took too long");
            assertNoPartialFiles(cache, i);
            assertFalse(Files.exists(cache.resolve("models--google--paligemma-tiny/refs/main")), c.getKey() + ": ref written");
        }
        outcomes.forEach((k, v) -> System.out.println("  " + k + " -> " + v));
        assertTrue(outcomes.get("no X-Repo-Commit").contains("X-Repo-Commit"));
        assertTrue(outcomes.get("ETag with a path").startsWith("BAD_RESPONSE"));
        assertTrue(outcomes.get("size not a number").contains("X-Linked-Size"));
        assertTrue(outcomes.get("wrong SHA-256").startsWith("VERIFICATION_FAILED"));
        assertTrue(outcomes.get("redirect loop").contains("redirects"));
        assertTrue(outcomes.get("redirect to a closed port").startsWith("NETWORK"));
    }

    @Test
    void mutatedResolveHeadersEndInOurOwnErrorOrAVerifiedDownload() throws IOException {
        String[] names = {"X-Repo-Commit", "ETag", "X-Linked-Etag", "X-Linked-Size", "Location", "Content-Length", "Content-Range"};
        int runs = Math.max(50, MUTANTS / 3);
        Map<HubException.Reason, Integer> failures = new EnumMap<>(HubException.Reason.class);
        int loaded = 0;
        for (int seed = 0; seed < runs; seed++) {
            Mutator mutator = new Mutator(1_000_000L + seed);
            String name = names[seed % names.length];
            String file = seed % 2 == 0 ? "model.safetensors" : "config.json";
            fake.rewriteResolveHeaders((f, h) -> {
                if (!f.equals(file) || h.getFirst(name) == null) return;
                byte[] value = h.getFirst(name).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
                h.set(name, new String(mutator.mutate(value, null), java.nio.charset.StandardCharsets.ISO_8859_1));
            });
            Path cache = tmp.resolve("mutated-headers-" + seed);
            try (Hub hub = hub(quick(cache))) {
                assertSnapshotWhole(hub.download(HubId.parse("google/paligemma-tiny")).dir());
                loaded++;
            } catch (HubException e) {
                assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "seed " + seed + ": empty message");
                failures.merge(e.reason(), 1, Integer::sum);
            } catch (Throwable t) {
                fail("header " + name + " of " + file + ", seed " + seed + ": unexplained " + t, t);
            }
            assertNoPartialFiles(cache, seed);
        }
        System.out.printf("hub header mutants: %d: %d loaded, failures by reason %s%n", runs, loaded, failures);
    }

    @Test
    void stalledTransferTimesOutInsteadOfHanging() {
        fake.stallTransfer("model.safetensors", 1000);
        long t0 = System.nanoTime();
        try (Hub hub = hub(env(fake, tmp.resolve("stall")).withTimeout(Duration.ofSeconds(1)))) {
            HubException e = org.junit.jupiter.api.Assertions.assertThrows(HubException.class, () -> hub.download(HubId.parse("google/paligemma-tiny")));
            assertEquals(HubException.Reason.NETWORK, e.reason());
            assertTrue(e.getMessage().contains("sent nothing for 1 s"), e.getMessage());
        }
        assertTrue(System.nanoTime() - t0 < 20_000_000_000L);
    }

    @Test
    void serverErrorsAndNonJsonAnswersAreExplained() throws IOException {
        fake.rewriteApiAnswers(b -> "<html>Bad gateway</html>".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (Hub hub = hub(quick(tmp.resolve("html")))) {
            HubException e = org.junit.jupiter.api.Assertions.assertThrows(HubException.class, () -> hub.download(HubId.parse("google/paligemma-tiny")));
            assertEquals(HubException.Reason.BAD_RESPONSE, e.reason());
            assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        }
        fake.rewriteApiAnswers(b -> new byte[0]);
        try (Hub hub = hub(quick(tmp.resolve("empty")))) {
            HubException e = org.junit.jupiter.api.Assertions.assertThrows(HubException.class, () -> hub.download(HubId.parse("google/paligemma-tiny")));
            assertEquals(HubException.Reason.BAD_RESPONSE, e.reason(), e.getMessage());
        }
        fake.rewriteApiAnswers(b -> "{\"sha\":\"abc\",\"siblings\":[]}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (Hub hub = hub(quick(tmp.resolve("sha")))) {
            HubException e = org.junit.jupiter.api.Assertions.assertThrows(HubException.class, () -> hub.download(HubId.parse("google/paligemma-tiny")));
            assertTrue(e.getMessage().contains("no commit hash in 'sha'"), e.getMessage());
        }
        fake.rewriteApiAnswers(b -> ("{\"sha\":\"" + tiny.commit() + "\",\"siblings\":[{\"rfilename\":\"../../outside\"}]}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (Hub hub = hub(quick(tmp.resolve("escape")))) {
            HubException e = org.junit.jupiter.api.Assertions.assertThrows(HubException.class, () -> hub.download(HubId.parse("google/paligemma-tiny")));
            assertTrue(e.getMessage().contains("'../../outside' is not a plain repository path"), e.getMessage());
        }
    }
}
