package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.hub.HubTesting;
import org.paligemma4j.testing.FakeHub;
import org.paligemma4j.testing.Fixtures;

/** pull, models, rm and --model owner/name, run as a user runs them against a fake Hub on localhost. */
@Timeout(120)
class HubCommandsTest {
    @TempDir
    Path tmp;

    FakeHub fake;
    FakeHub.Repo tiny;
    final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void startHub() throws IOException {
        fake = FakeHub.start();
        tiny = fake.addRepo("google/paligemma-tiny", Fixtures.path("paligemma-tiny"));
        fake.addRepo("google/gated-tiny", Fixtures.path("paligemma-tiny")).gated();
        env.put("HF_ENDPOINT", fake.endpoint());
        env.put("HF_HOME", tmp.resolve("hf-home").toString());
        env.put("HF_HUB_DOWNLOAD_TIMEOUT", "5");
        HubModels.environment = env::get;
    }

    @AfterEach
    void stopHub() {
        HubModels.environment = System::getenv;
        fake.close();
    }

    private Path cache() {
        return tmp.resolve("hf-home/hub");
    }

    @Test
    void pullDownloadsIntoHfHomeAndPrintsTheSnapshot() throws IOException {
        CliRunner.Result r = CliRunner.run("pull", "google/paligemma-tiny");
        assertEquals(0, r.exitCode(), r.err());
        Path snapshot = cache().resolve("models--google--paligemma-tiny/snapshots/" + tiny.commit());
        assertEquals(snapshot + "\n", r.out());
        assertTrue(r.err().contains("model.safetensors (776.0 kB) verified"), r.err());
        HubTesting.assertOfficialLayout(cache(), "google/paligemma-tiny", tiny, "main");
    }

    @Test
    void pullHonoursHfHubCache() throws IOException {
        env.put("HF_HUB_CACHE", tmp.resolve("elsewhere").toString());
        CliRunner.Result r = CliRunner.run("pull", "google/paligemma-tiny@main");
        assertEquals(0, r.exitCode(), r.err());
        HubTesting.assertOfficialLayout(tmp.resolve("elsewhere"), "google/paligemma-tiny", tiny, "main");
        assertFalse(Files.exists(cache()));
    }

    @Test
    void pullOfAGatedModelWithoutTokenFailsWithTheLicenseMessage() {
        CliRunner.Result r = CliRunner.run("pull", "google/gated-tiny");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("paligemma pull: google/gated-tiny is gated or private"), r.err());
        assertTrue(r.err().contains("Accept the license on " + fake.endpoint() + "/google/gated-tiny"), r.err());
        assertTrue(r.err().contains("HF_TOKEN"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void pullOfAGatedModelUsesHfTokenOrTheTokenFile() throws IOException {
        env.put("HF_TOKEN", FakeHub.TOKEN);
        assertEquals(0, CliRunner.run("pull", "google/gated-tiny").exitCode());
        env.remove("HF_TOKEN");
        CliRunner.run("rm", "google/gated-tiny");
        Files.createDirectories(tmp.resolve("hf-home"));
        Files.writeString(tmp.resolve("hf-home/token"), FakeHub.TOKEN);
        CliRunner.Result r = CliRunner.run("pull", "google/gated-tiny");
        assertEquals(0, r.exitCode(), r.err());
    }

    @Test
    void pullOfAMissingRevisionOrModelFails() {
        CliRunner.Result r = CliRunner.run("pull", "google/paligemma-tiny@nope");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("has no revision 'nope'"), r.err());
        r = CliRunner.run("pull", "google/missing");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("no model google/missing"), r.err());
        r = CliRunner.run("pull", "not-an-id");
        assertEquals(2, r.exitCode());
    }

    @Test
    void modelsListsRevisionsAndSizesAndRmRemoves() throws IOException {
        assertEquals("no models in " + cache() + "\n", CliRunner.run("models").out());
        assertEquals(0, CliRunner.run("pull", "google/paligemma-tiny").exitCode());
        CliRunner.Result list = CliRunner.run("models");
        assertEquals(0, list.exitCode(), list.err());
        assertTrue(list.out().contains("google/paligemma-tiny  1.0 MB"), list.out());
        assertTrue(list.out().contains(tiny.commit() + "  main"), list.out());
        assertTrue(list.out().contains("8 files"), list.out());
        JsonNode json = new ObjectMapper().readTree(CliRunner.run("models", "--json").out());
        assertEquals("google/paligemma-tiny", json.get(0).get("id").asText());
        long total = tiny.files().values().stream().mapToLong(b -> b.length).sum();
        assertEquals(total, json.get(0).get("size_bytes").asLong());
        assertEquals(tiny.commit(), json.get(0).get("revisions").get(0).get("commit").asText());
        assertEquals("main", json.get(0).get("revisions").get(0).get("refs").get(0).asText());

        CliRunner.Result rm = CliRunner.run("rm", "google/paligemma-tiny");
        assertEquals(0, rm.exitCode(), rm.err());
        assertTrue(rm.out().startsWith("removed google/paligemma-tiny (1.0 MB)"), rm.out());
        assertFalse(Files.exists(cache().resolve("models--google--paligemma-tiny")));
        assertFalse(Files.exists(cache().resolve(".locks/models--google--paligemma-tiny")));
        CliRunner.Result again = CliRunner.run("rm", "google/paligemma-tiny");
        assertEquals(1, again.exitCode());
        assertTrue(again.err().contains("not in the cache"), again.err());
    }

    private CliRunner.Result generate(String model) {
        return CliRunner.run("generate", "--model", model, "--image", Fixtures.path("images", "shapes_text.png").toString(),
                "--prompt", "caption en", "--max-new-tokens", "12", "--json");
    }

    @Test
    void modelOptionTakesAHubIdOnlineThenOfflineWithoutARequest() {
        CliRunner.Result direct = generate(Fixtures.path("paligemma-tiny").toString());
        assertEquals(0, direct.exitCode(), direct.err());
        CliRunner.Result hub = generate("google/paligemma-tiny");
        assertEquals(0, hub.exitCode(), hub.err());
        assertEquals(direct.out(), hub.out());

        fake.clearRequests();
        env.put("HF_HUB_OFFLINE", "1");
        CliRunner.Result offline = generate("google/paligemma-tiny");
        assertEquals(0, offline.exitCode(), offline.err());
        assertEquals(direct.out(), offline.out());
        assertEquals(List.of(), fake.requests());

        CliRunner.Result notCached = generate("google/gated-tiny");
        assertEquals(1, notCached.exitCode());
        assertTrue(notCached.err().contains("google/gated-tiny is not in the cache at " + cache()), notCached.err());
        assertTrue(notCached.err().contains("HF_HUB_OFFLINE=1"), notCached.err());
        assertEquals(List.of(), fake.requests());
    }

    @Test
    void inspectAndTasksTakeAHubIdToo() {
        CliRunner.Result r = CliRunner.run("inspect", "--model", "google/paligemma-tiny");
        assertEquals(0, r.exitCode(), r.err());
        CliRunner.Result caption = CliRunner.run("caption", "--model", "google/paligemma-tiny",
                Fixtures.path("images", "shapes_text.png").toString(), "--max-new-tokens", "4");
        assertEquals(0, caption.exitCode(), caption.err());
    }
}
