package org.paligemma4j.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubEnvironmentTest {
    @TempDir
    Path home;

    private HubEnvironment read(Map<String, String> vars) {
        return HubEnvironment.from(vars::get, home);
    }

    @Test
    void defaultsAreTheOfficialClients() {
        HubEnvironment env = read(Map.of());
        assertEquals("https://huggingface.co", env.endpoint());
        assertEquals(home.resolve(".cache/huggingface/hub"), env.cacheDir());
        assertNull(env.token());
        assertFalse(env.offline());
        assertEquals(Duration.ofSeconds(10), env.timeout());
    }

    @Test
    void cacheFollowsHfHubCacheThenHfHomeThenXdgCacheHome() {
        assertEquals(Path.of("/x/cache/huggingface/hub"), read(Map.of("XDG_CACHE_HOME", "/x/cache")).cacheDir());
        assertEquals(Path.of("/hf/hub"), read(Map.of("HF_HOME", "/hf", "XDG_CACHE_HOME", "/x")).cacheDir());
        assertEquals(Path.of("/models"), read(Map.of("HF_HUB_CACHE", "/models", "HF_HOME", "/hf")).cacheDir());
        assertEquals(Path.of("/legacy"), read(Map.of("HUGGINGFACE_HUB_CACHE", "/legacy")).cacheDir());
        assertEquals(home.resolve("hf/hub"), read(Map.of("HF_HOME", "~/hf")).cacheDir());
    }

    @Test
    void tokenComesFromHfTokenElseTheTokenFileTheOfficialClientWrites() throws IOException {
        Path hfHome = home.resolve(".cache/huggingface");
        Files.createDirectories(hfHome);
        Files.writeString(hfHome.resolve("token"), "hf_fromFile\n");
        assertEquals("hf_fromFile", read(Map.of()).token());
        assertEquals("hf_fromEnv", read(Map.of("HF_TOKEN", "hf_fromEnv")).token());
        Path other = home.resolve("elsewhere-token");
        Files.writeString(other, "  hf_fromTokenPath  ");
        assertEquals("hf_fromTokenPath", read(Map.of("HF_TOKEN_PATH", other.toString())).token());
        Files.createDirectories(home.resolve("custom"));
        Files.writeString(home.resolve("custom/token"), "hf_custom");
        assertEquals("hf_custom", read(Map.of("HF_HOME", home.resolve("custom").toString())).token());
        assertFalse(read(Map.of("HF_TOKEN", "hf_secret")).toString().contains("hf_secret"));
    }

    @Test
    void offlineFlagAcceptsTheOfficialTrueValues() {
        for (String v : new String[] {"1", "ON", "yes", "True"}) assertTrue(read(Map.of("HF_HUB_OFFLINE", v)).offline(), v);
        for (String v : new String[] {"0", "off", "", "no"}) assertFalse(read(Map.of("HF_HUB_OFFLINE", v)).offline(), v);
        assertTrue(read(Map.of("TRANSFORMERS_OFFLINE", "1")).offline());
    }

    @Test
    void endpointAndTimeoutAreRead() {
        HubEnvironment env = read(Map.of("HF_ENDPOINT", "https://hf-mirror.example/", "HF_HUB_DOWNLOAD_TIMEOUT", "2.5"));
        assertEquals("https://hf-mirror.example", env.endpoint());
        assertEquals(Duration.ofMillis(2500), env.timeout());
        assertEquals("https://hf-mirror.example/google/paligemma2-3b-mix-224", env.modelPage(HubId.parse("google/paligemma2-3b-mix-224")));
    }

    @Test
    void hubIdsParseAndRejectPathTricks() {
        HubId id = HubId.parse("google/paligemma2-3b-mix-224@refs/pr/1");
        assertEquals("google", id.owner());
        assertEquals("paligemma2-3b-mix-224", id.name());
        assertEquals("refs/pr/1", id.revision());
        assertEquals("models--google--paligemma2-3b-mix-224", id.cacheFolderName());
        assertEquals("main", HubId.parse("google/x").revision());
        assertEquals("google/x", HubId.parse("google/x").toString());
        assertTrue(HubId.parse("a/b@" + "0".repeat(40)).isCommit());
        for (String bad : new String[] {"google", "/abs/path", "./rel/dir", "a/b/c", "a--b/c", "a/b..c", "a/b@", "a/b@../x", "a/b@x/../../y", "~/x", "a b/c"}) {
            assertFalse(HubId.looksLikeHubId(bad), bad);
            assertThrows(IllegalArgumentException.class, () -> HubId.parse(bad), bad);
        }
    }
}
