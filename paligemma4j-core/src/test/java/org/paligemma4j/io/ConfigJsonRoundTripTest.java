package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.testing.Fixtures;

/** {@link PaliGemmaConfig#toJson} reads back to the same config, for the fixtures and every published model. */
class ConfigJsonRoundTripTest {

    static Stream<String> configs() throws Exception {
        List<String> out = new ArrayList<>();
        for (String m : Fixtures.MODELS) out.add(Files.readString(Fixtures.path(m, "config.json")));
        for (String m : KnownModels.names()) out.add(KnownModels.file(m, "config.json"));
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("configs")
    void writtenConfigReadsBackEqual(String json, @TempDir Path dir) throws Exception {
        Path a = Files.writeString(dir.resolve("a.json"), json);
        PaliGemmaConfig original = PaliGemmaConfig.loadFile(a);
        Path b = Files.writeString(dir.resolve("b.json"), original.toJson());
        PaliGemmaConfig back = PaliGemmaConfig.loadFile(b);
        assertEquals(original.vision(), back.vision());
        assertEquals(strip(original.text()), strip(back.text()));
        assertArrayEquals(original.text().slidingLayers(), back.text().slidingLayers());
        assertArrayEquals(original.eosTokenIds(), back.eosTokenIds());
        assertEquals(strip(original), strip(back));
    }

    private static String strip(Object record) {
        return record.toString().replaceAll("\\[[A-Z]@[0-9a-f]+", "[…");
    }
}
