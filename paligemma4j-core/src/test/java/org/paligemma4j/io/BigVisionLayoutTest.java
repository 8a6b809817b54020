package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mapping on synthetic big_vision archives with random values and sizes the fixtures lack: matrices large
 * enough to be transposed by the worker threads (also from deflated members), and big_vision's joint
 * {@code qkv_einsum} (used when there are as many KV heads as query heads), checked element by element against
 * the formulas of the transformers converter.
 */
class BigVisionLayoutTest {
    // vision: patch, width, positions, layers, MLP, heads, head size; text: width, vocab, layers, heads, KV, head, MLP
    static final int P = 2, DV = 64, N = 4, LV = 1, IV = 96, HV = 4, HDV = 16;
    static final int D = 256, V = 40, L = 2, H = 4, HD = 64, I = 512;

    final SplittableRandom random = new SplittableRandom(5);
    final Map<String, float[]> values = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();

    void array(String key, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) random.nextGaussian();
        values.put(key, v);
        shapes.put(key, shape);
    }

    Map<String, byte[]> members(boolean jointQkv) throws IOException {
        String e = "img/Transformer/encoderblock/", a = e + "MultiHeadDotProductAttention_0/";
        array("img/embedding/kernel", P, P, 3, DV);
        array("img/embedding/bias", DV);
        array("img/pos_embedding", 1, N, DV);
        for (String ln : new String[] {"LayerNorm_0", "LayerNorm_1"}) {
            array(e + ln + "/scale", LV, DV);
            array(e + ln + "/bias", LV, DV);
        }
        array(e + "MlpBlock_0/Dense_0/kernel", LV, DV, IV);
        array(e + "MlpBlock_0/Dense_0/bias", LV, IV);
        array(e + "MlpBlock_0/Dense_1/kernel", LV, IV, DV);
        array(e + "MlpBlock_0/Dense_1/bias", LV, DV);
        for (String p : new String[] {"query", "key", "value"}) {
            array(a + p + "/kernel", LV, DV, HV, HDV);
            array(a + p + "/bias", LV, HV, HDV);
        }
        array(a + "out/kernel", LV, HV, HDV, DV);
        array(a + "out/bias", LV, DV);
        array("img/Transformer/encoder_norm/scale", DV);
        array("img/Transformer/encoder_norm/bias", DV);
        array("img/head/kernel", DV, D);
        array("img/head/bias", D);
        array("llm/embedder/input_embedding", V, D);
        array("llm/final_norm/scale", D);
        if (jointQkv) {
            array("llm/layers/attn/qkv_einsum/w", L, 3, H, D, HD);
        } else {
            array("llm/layers/attn/q_einsum/w", L, H, D, HD);
            array("llm/layers/attn/kv_einsum/w", L, 2, H, D, HD);
        }
        array("llm/layers/attn/attn_vec_einsum/w", L, H, HD, D);
        array("llm/layers/mlp/gating_einsum", L, 2, D, I);
        array("llm/layers/mlp/linear", L, I, D);
        for (String n : new String[] {"pre_attention_norm", "pre_ffw_norm", "post_attention_norm", "post_ffw_norm"}) {
            array("llm/layers/" + n + "/scale", L, D);
        }
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (String key : values.keySet()) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            NpyArray.ofFloats(values.get(key), shapes.get(key)).write(b);
            out.put("params/" + key + ".npy", b.toByteArray());
        }
        return out;
    }

    float v(String key, long... index) {
        long[] shape = shapes.get(key);
        long flat = 0;
        for (int i = 0; i < shape.length; i++) flat = flat * shape[i] + index[i];
        return values.get(key)[(int) flat];
    }

    @Test
    void largeMatricesFromStoredAndDeflatedArchivesFollowTheConverterFormulas(@TempDir Path dir) throws IOException {
        Map<String, byte[]> members = members(false);
        Path stored = BigVisionCheckpointTest.write(dir.resolve("s.npz"), members, ZipEntry.STORED);
        Path deflated = BigVisionCheckpointTest.write(dir.resolve("d.npz"), members, ZipEntry.DEFLATED);
        try (Checkpoint s = Checkpoint.open(stored); Checkpoint d = Checkpoint.open(deflated)) {
            for (String name : s.tensors().keySet()) {
                assertArrayEquals(s.tensor(name).toFloatArray(), d.tensor(name).toFloatArray(), name);
            }
            checkText(s, "llm/layers/attn/q_einsum/w", "llm/layers/attn/kv_einsum/w", false);
            SafeTensor gate = s.tensor(WeightNames.textLayer(1, "mlp.gate_proj.weight"));
            SafeTensor up = s.tensor(WeightNames.textLayer(1, "mlp.up_proj.weight"));
            SafeTensor down = s.tensor(WeightNames.textLayer(1, "mlp.down_proj.weight"));
            SafeTensor o = s.tensor(WeightNames.textLayer(1, "self_attn.o_proj.weight"));
            for (int r = 0; r < I; r += 37) {
                for (int c = 0; c < D; c += 11) {
                    assertEquals(v("llm/layers/mlp/gating_einsum", 1, 0, c, r), gate.getFloat((long) r * D + c));
                    assertEquals(v("llm/layers/mlp/gating_einsum", 1, 1, c, r), up.getFloat((long) r * D + c));
                    assertEquals(v("llm/layers/mlp/linear", 1, r, c), down.getFloat((long) c * I + r));
                }
            }
            for (int row = 0; row < D; row += 13) {
                for (int h = 0; h < H; h++) {
                    for (int k = 0; k < HD; k += 7) {
                        assertEquals(v("llm/layers/attn/attn_vec_einsum/w", 1, h, k, row), o.getFloat((long) row * H * HD + h * HD + k));
                    }
                }
            }
            SafeTensor q = s.tensor(WeightNames.visionLayer(0, "self_attn.q_proj.weight"));
            SafeTensor patch = s.tensor(WeightNames.vision("embeddings.patch_embedding.weight"));
            for (int out = 0; out < DV; out += 5) {
                for (int in = 0; in < DV; in += 3) {
                    assertEquals(v("img/Transformer/encoderblock/MultiHeadDotProductAttention_0/query/kernel", 0, in, out / HDV, out % HDV),
                            q.getFloat((long) out * DV + in));
                }
                for (int ch = 0; ch < 3; ch++) {
                    assertEquals(v("img/embedding/kernel", 1, 0, ch, out), patch.getFloat(((long) out * 3 + ch) * P * P + 2));
                }
            }
        }
    }

    @Test
    void jointQkvEinsumSplitsIntoQueryKeyAndValue(@TempDir Path dir) throws IOException {
        Path file = BigVisionCheckpointTest.write(dir.resolve("qkv.npz"), members(true), ZipEntry.DEFLATED);
        BigVisionCheckpoint npz = BigVisionCheckpoint.open(file);
        try (Checkpoint c = npz.checkpoint()) {
            checkText(c, "llm/layers/attn/qkv_einsum/w", null, true);
            assertEquals(H, npz.inferConfig().config().text().numKeyValueHeads());
        }
    }

    /** q/k/v_proj[i][h·hd + k, d] = w[i, (part,) h, d, k] (transpose(0,2,1).reshape(heads·hd, D)). */
    void checkText(Checkpoint c, String qKey, String kvKey, boolean joint) {
        for (int layer = 0; layer < L; layer++) {
            for (int part = 0; part < 3; part++) {
                String proj = new String[] {"q_proj", "k_proj", "v_proj"}[part];
                SafeTensor t = c.tensor(WeightNames.textLayer(layer, "self_attn." + proj + ".weight"));
                for (int h = 0; h < H; h++) {
                    for (int k = 0; k < HD; k += 9) {
                        for (int d = 0; d < D; d += 17) {
                            float want = joint ? v(qKey, layer, part, h, d, k)
                                    : part == 0 ? v(qKey, layer, h, d, k) : v(kvKey, layer, part - 1, h, d, k);
                            assertEquals(want, t.getFloat(((long) h * HD + k) * D + d), proj + " layer " + layer);
                        }
                    }
                }
            }
        }
    }
}
