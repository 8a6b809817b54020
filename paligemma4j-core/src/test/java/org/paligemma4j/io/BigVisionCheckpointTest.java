package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.paligemma4j.testing.Fixtures;

/**
 * The npz → Hugging Face mapping tensor by tensor against the HF safetensors of the same weights, deflated
 * archives, and malformed archives, each refused with an error naming the file and the key.
 */
class BigVisionCheckpointTest {

    @ParameterizedTest
    @ValueSource(strings = {"paligemma-tiny", "paligemma-tiny-bf16", "paligemma2-tiny", "paligemma2-tiny-bf16"})
    void everyConvertedTensorIsBitIdenticalToTheHuggingFaceCheckpoint(String model) {
        try (Checkpoint hf = Checkpoint.open(Fixtures.path(model));
             Checkpoint npz = Checkpoint.open(BigVisionFixtures.npz(model))) {
            assertEquals(hf.tensors().keySet().stream().map(WeightNames::canonical).sorted().toList(),
                    npz.tensors().keySet().stream().sorted().toList());
            for (SafeTensor t : npz.tensors().values()) {
                SafeTensor want = hf.tensors().values().stream().filter(h -> WeightNames.canonical(h.name()).equals(t.name()))
                        .findFirst().orElseThrow();
                assertEquals(want.dtype(), t.dtype(), t.name());
                byte[] got = t.data().toArray(ValueLayout.JAVA_BYTE);
                byte[] expected = want.data().toArray(ValueLayout.JAVA_BYTE);
                if (t.name().endsWith("embed_tokens.weight")) {
                    // big_vision has the first 2,176 rows; HF appends <image> + padding.
                    assertArrayEquals(new long[] {2176, want.dim(1)}, t.shape());
                    expected = Arrays.copyOf(expected, got.length);
                } else {
                    assertArrayEquals(want.shape(), t.shape(), t.name());
                }
                assertArrayEquals(expected, got, t.name());
            }
        }
    }

    @Test
    void deflatedArchiveGivesTheSameTensorsAsTheStoredOne(@TempDir Path dir) throws IOException {
        Path source = BigVisionFixtures.npz("paligemma2-tiny-bf16");
        Path deflated = write(dir.resolve("deflated.npz"), members(source), ZipEntry.DEFLATED);
        try (Checkpoint a = Checkpoint.open(source); Checkpoint b = Checkpoint.open(deflated)) {
            assertEquals(a.tensors().keySet(), b.tensors().keySet());
            for (String name : a.tensors().keySet()) {
                assertArrayEquals(a.tensor(name).data().toArray(ValueLayout.JAVA_BYTE),
                        b.tensor(name).data().toArray(ValueLayout.JAVA_BYTE), name);
            }
        }
    }

    @Test
    void truncatedArchiveIsRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(BigVisionFixtures.npz("paligemma-tiny"));
        for (double cut : new double[] {0.001, 0.3, 0.7, 0.999}) {
            Path file = dir.resolve("cut" + cut + ".npz");
            Files.write(file, Arrays.copyOf(whole, (int) (whole.length * cut)));
            CheckpointException e = assertThrows(CheckpointException.class, () -> BigVisionCheckpoint.open(file));
            assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void missingArrayIsNamed(@TempDir Path dir) throws IOException {
        Map<String, byte[]> m = members(BigVisionFixtures.npz("paligemma2-tiny"));
        m.remove("params/llm/layers/post_ffw_norm/scale.npy");
        Path file = write(dir.resolve("missing.npz"), m, ZipEntry.STORED);
        CheckpointException e = assertThrows(CheckpointException.class, () -> BigVisionCheckpoint.open(file));
        assertTrue(e.getMessage().contains("missing array params/llm/layers/post_ffw_norm/scale"), e.getMessage());
    }

    @Test
    void wrongShapeIsNamedWithTheShapeExpected(@TempDir Path dir) throws IOException {
        Map<String, byte[]> m = members(BigVisionFixtures.npz("paligemma-tiny"));
        // q_einsum [L, H, D, hd] = [2, 4, 48, 16] saved as [2, 4, 16, 48]: same bytes, axes swapped.
        String key = "params/llm/layers/attn/q_einsum/w.npy";
        m.put(key, replaceHeader(m.get(key), "(2, 4, 48, 16)", "(2, 4, 16, 48)"));
        Path file = write(dir.resolve("shape.npz"), m, ZipEntry.STORED);
        CheckpointException e = assertThrows(CheckpointException.class, () -> BigVisionCheckpoint.open(file));
        assertTrue(e.getMessage().contains("'params/llm/layers/attn/q_einsum/w' has shape [2, 4, 16, 48]")
                && e.getMessage().contains("D = 48"), e.getMessage());
    }

    @Test
    void unknownDtypeIsNamed(@TempDir Path dir) throws IOException {
        Map<String, byte[]> m = members(BigVisionFixtures.npz("paligemma-tiny"));
        String key = "params/img/head/bias.npy";
        m.put(key, replaceHeader(m.get(key), "'<f4'", "'<i4'"));
        Path file = write(dir.resolve("dtype.npz"), m, ZipEntry.STORED);
        CheckpointException e = assertThrows(CheckpointException.class, () -> BigVisionCheckpoint.open(file));
        assertTrue(e.getMessage().contains("'params/img/head/bias'") && e.getMessage().contains("dtype '<i4'"), e.getMessage());
    }

    @Test
    void unexpectedArrayIsNamed(@TempDir Path dir) throws IOException {
        Map<String, byte[]> m = members(BigVisionFixtures.npz("paligemma-tiny"));
        m.put("params/img/MAPHead_0/probe.npy", m.get("params/img/head/bias.npy"));
        Path file = write(dir.resolve("extra.npz"), m, ZipEntry.STORED);
        CheckpointException e = assertThrows(CheckpointException.class, () -> BigVisionCheckpoint.open(file));
        assertTrue(e.getMessage().contains("unexpected array params/img/MAPHead_0/probe"), e.getMessage());
    }

    @Test
    void damagedDeflatedMemberIsNamed(@TempDir Path dir) throws IOException {
        Path deflated = write(dir.resolve("d.npz"), members(BigVisionFixtures.npz("paligemma-tiny")), ZipEntry.DEFLATED);
        byte[] bytes = Files.readAllBytes(deflated);
        // Damage the compressed bytes of the first member (after its 30-byte local header and name).
        int at = 30 + "params/img/Transformer/encoder_norm/bias.npy".length() + 20;
        for (int i = 0; i < 40; i++) bytes[at + i] = (byte) 0xA5;
        Files.write(deflated, bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> BigVisionCheckpoint.open(deflated));
        assertTrue(e.getMessage().contains("params/img/Transformer/encoder_norm/bias"), e.getMessage());
    }

    @Test
    void npzWithoutTokenizerSaysToGiveOne() {
        var e = assertThrows(CheckpointException.class,
                () -> ModelSource.of(BigVisionFixtures.npz("paligemma-tiny")).tokenizerPath());
        assertTrue(e.getMessage().contains("--tokenizer"), e.getMessage());
    }

    static byte[] replaceHeader(byte[] npy, String from, String to) {
        String text = new String(npy, StandardCharsets.ISO_8859_1);
        int at = text.indexOf(from);
        assertTrue(at > 0 && at < 128, "header has " + from);
        assertEquals(from.length(), to.length());
        byte[] out = npy.clone();
        System.arraycopy(to.getBytes(StandardCharsets.ISO_8859_1), 0, out, at, to.length());
        return out;
    }

    static Map<String, byte[]> members(Path npz) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(npz.toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                try (InputStream in = zip.getInputStream(entry)) {
                    out.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        return out;
    }

    static Path write(Path file, Map<String, byte[]> members, int method) throws IOException {
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, byte[]> m : members.entrySet()) {
                ZipEntry entry = new ZipEntry(m.getKey());
                entry.setMethod(method);
                if (method == ZipEntry.STORED) {
                    CRC32 crc = new CRC32();
                    crc.update(m.getValue());
                    entry.setCrc(crc.getValue());
                    entry.setSize(m.getValue().length);
                    entry.setCompressedSize(m.getValue().length);
                }
                out.putNextEntry(entry);
                out.write(m.getValue());
                out.closeEntry();
            }
        }
        return file;
    }
}
