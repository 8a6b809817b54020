package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.paligemma4j.testing.Fixtures;

class SyntheticCheckpointTest {

    @TempDir
    Path tmp;

    /** Tensor and parameter counts of the published checkpoints (their index files list 603 and 727 keys). */
    @ParameterizedTest
    @CsvSource({
            "paligemma-3b-pt-224, 603, 2923466480, F32",
            "paligemma-3b-pt-448, 603, 2924351216, F32",
            "paligemma2-3b-pt-224, 727, 3032242416, BF16",
            "paligemma2-3b-pt-896, 727, 3036666096, BF16"})
    void knownModelsHaveThePublishedTensorSet(String name, int tensors, long parameters, DType dtype) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), KnownModels.file(name, "config.json"));
        Map<String, long[]> expected = WeightNames.expected(PaliGemmaConfig.load(dir));
        assertEquals(tensors, expected.size());
        long params = 0;
        for (long[] shape : expected.values()) {
            long n = 1;
            for (long d : shape) n *= d;
            params += n;
        }
        assertEquals(parameters, params);
        assertEquals(dtype, KnownModels.publishedDType(name));
    }

    @Test
    void synthesisedTwinOfAFixtureIsShardedAndBinds() throws IOException {
        Path out = tmp.resolve("twin");
        var result = SyntheticCheckpoint.write(new SyntheticCheckpoint.Options(
                Fixtures.path("paligemma2-tiny").toString(), out, DType.BF16, 7, 300_000, null), null);
        assertTrue(result.files().size() > 1, "expected several shards, got " + result.files());
        assertTrue(Files.isRegularFile(out.resolve(Checkpoint.INDEX_FILE)));
        PaliGemmaConfig config = PaliGemmaConfig.load(out);
        try (Checkpoint ckpt = Checkpoint.open(out)) {
            ModelWeights w = ModelWeights.bind(ckpt, config);
            SafeTensor q = w.get(WeightNames.textLayer(0, "self_attn.q_proj.weight"));
            assertEquals(DType.BF16, q.dtype());
            float bound = (float) (1 / Math.sqrt(64)) * 1.01f;
            float[] values = q.toFloatArray();
            for (float v : values) assertTrue(Math.abs(v) <= bound, "value " + v + " outside ±1/sqrt(fan_in)");
            assertNotEquals(values[0], values[1]);
            float norm = w.get(WeightNames.vision("post_layernorm.weight")).getFloat(0);
            assertTrue(Math.abs(norm - 1) <= 0.06, "LayerNorm scale should be near 1, got " + norm);
        }
    }

    @Test
    void sameSeedGivesSameBytesAndOtherSeedDiffers() throws IOException {
        String like = Fixtures.path("paligemma-tiny").toString();
        SyntheticCheckpoint.write(new SyntheticCheckpoint.Options(like, tmp.resolve("a"), null, 1, Long.MAX_VALUE, null), null);
        SyntheticCheckpoint.write(new SyntheticCheckpoint.Options(like, tmp.resolve("b"), null, 1, Long.MAX_VALUE, null), null);
        SyntheticCheckpoint.write(new SyntheticCheckpoint.Options(like, tmp.resolve("c"), null, 2, Long.MAX_VALUE, null), null);
        byte[] a = Files.readAllBytes(tmp.resolve("a/model.safetensors"));
        assertEquals(-1, java.util.Arrays.mismatch(a, Files.readAllBytes(tmp.resolve("b/model.safetensors"))));
        assertNotEquals(-1, java.util.Arrays.mismatch(a, Files.readAllBytes(tmp.resolve("c/model.safetensors"))));
    }

    @Test
    void unknownModelIsRefusedWithTheKnownNames() {
        var e = assertThrows(IllegalArgumentException.class, () -> SyntheticCheckpoint.write(
                new SyntheticCheckpoint.Options("paligemma-7b", tmp.resolve("x"), null, 1, 1L << 30, null), null));
        assertTrue(e.getMessage().contains("paligemma2-3b-pt-224"), e.getMessage());
    }
}
