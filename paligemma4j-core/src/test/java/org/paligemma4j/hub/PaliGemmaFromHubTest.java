package org.paligemma4j.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.paligemma4j.hub.HubTesting.env;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.testing.FakeHub;
import org.paligemma4j.testing.Fixtures;

@Timeout(120)
class PaliGemmaFromHubTest {
    @TempDir
    Path cache;

    private static int[] greedyIds(PaliGemma pg) throws IOException {
        return pg.generate(Fixtures.path("images", "shapes_text.png"), "caption en", GenerationOptions.defaults().withMaxNewTokens(12)).ids();
    }

    @Test
    void openingAHubIdGeneratesTheSameIdsAsTheFixtureDirectory() throws IOException {
        for (String model : new String[] {"paligemma-tiny", "paligemma2-tiny-bf16"}) {
            int[] expected;
            try (PaliGemma direct = PaliGemma.open(Fixtures.path(model))) {
                expected = greedyIds(direct);
            }
            try (FakeHub fake = FakeHub.start()) {
                fake.addRepo("google/" + model, Fixtures.path(model));
                try (PaliGemma fromHub = PaliGemma.open("google/" + model, env(fake, cache))) {
                    assertArrayEquals(expected, greedyIds(fromHub), model);
                }
                // Again, offline: from the cache with no request at all.
                fake.clearRequests();
                try (PaliGemma cached = PaliGemma.open("google/" + model, env(fake, cache).withOffline(true))) {
                    assertArrayEquals(expected, greedyIds(cached), model);
                }
                assertEquals(0, fake.requests().size());
            }
        }
    }

    @Test
    void openingALocalPathStillWorksAndNonsenseIsExplained() throws IOException {
        try (PaliGemma pg = PaliGemma.open(Fixtures.path("paligemma-tiny").toString(), noHub())) {
            assertEquals(12, greedyIds(pg).length);
        }
        IOException e = assertThrows(IOException.class, () -> PaliGemma.open("no such dir at all", noHub()));
        assertTrue(e.getMessage().contains("no such file or directory (nor a Hub model id"), e.getMessage());
        HubException offline = assertThrows(HubException.class,
                () -> PaliGemma.open("google/not-cached", noHub().withOffline(true)));
        assertEquals(HubException.Reason.NOT_CACHED, offline.reason());
    }

    /** An endpoint nothing listens on: these cases must not need the network. */
    private HubEnvironment noHub() {
        return new HubEnvironment("http://127.0.0.1:9", cache, null, false, java.time.Duration.ofSeconds(2), 1);
    }
}
