package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.testing.Fixtures;

/**
 * Every tensor of every fixture model, read through the mapped loader, has the same sum and sum of
 * squares as an independent reader in this test (plain RandomAccessFile, its own header walk and its
 * own bf16 widening), so a wrong offset, dtype or byte order in the loader cannot go unnoticed.
 */
class SafetensorsParityTest {

    static Stream<String> models() {
        return Stream.of(Fixtures.MODELS);
    }

    @ParameterizedTest
    @MethodSource("models")
    void everyTensorMatchesAnIndependentReader(String model) throws IOException {
        Path dir = Fixtures.path(model);
        Map<String, double[]> independent = new HashMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".safetensors"))::iterator) {
                independent.putAll(sumsByIndependentReader(f));
            }
        }
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(independent.keySet(), ckpt.tensors().keySet());
            for (SafeTensor t : ckpt.tensors().values()) {
                double sum = 0, sumSq = 0;
                for (long i = 0, n = t.elementCount(); i < n; i++) {
                    double v = t.getFloat(i);
                    sum += v;
                    sumSq += v * v;
                }
                double[] want = independent.get(t.name());
                assertEquals(want[0], sum, 0.0, t.name() + " sum");
                assertEquals(want[1], sumSq, 0.0, t.name() + " sum of squares");
                assertTrue(want[1] > 0 || t.elementCount() == 0, t.name() + " is all zeros: suspicious fixture read");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void bulkReadAgreesWithElementReads(String model) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.path(model))) {
            for (SafeTensor t : ckpt.tensors().values()) {
                float[] all = t.toFloatArray();
                for (int i = 0; i < all.length; i += 7) {
                    assertEquals(Float.floatToRawIntBits(t.getFloat(i)), Float.floatToRawIntBits(all[i]), t.name());
                }
            }
        }
    }

    /** name -> {sum, sum of squares}, accumulated in double in element order. */
    static Map<String, double[]> sumsByIndependentReader(Path file) throws IOException {
        Map<String, double[]> out = new HashMap<>();
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            byte[] lenBytes = new byte[8];
            raf.readFully(lenBytes);
            long n = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            byte[] headerBytes = new byte[(int) n];
            raf.readFully(headerBytes);
            JsonNode header = new ObjectMapper().readTree(headerBytes);
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) continue;
                long begin = e.getValue().get("data_offsets").get(0).asLong();
                long end = e.getValue().get("data_offsets").get(1).asLong();
                byte[] data = new byte[(int) (end - begin)];
                raf.seek(8 + n + begin);
                raf.readFully(data);
                ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
                String dtype = e.getValue().get("dtype").asText();
                double sum = 0, sumSq = 0;
                while (b.hasRemaining()) {
                    double v = switch (dtype) {
                        case "F32" -> b.getFloat();
                        // bf16: the stored 16 bits are the high half of a float32
                        case "BF16" -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
                        default -> throw new AssertionError("fixture dtype " + dtype);
                    };
                    sum += v;
                    sumSq += v * v;
                }
                out.put(e.getKey(), new double[] {sum, sumSq});
            }
        }
        return out;
    }
}
