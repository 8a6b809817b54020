package org.paligemma4j.io;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.testing.Fixtures;

/**
 * A corpus of broken checkpoints, generated here: each must fail with its own specific message, quickly,
 * without crashing the JVM and without allocating more than a few MB (a hostile header length must not
 * make the loader allocate it).
 */
class MalformedCheckpointTest {

    @TempDir
    static Path tmp;

    private static int counter;

    /** A tiny valid file: tensors a (F32 [2,3]) and b (BF16 [4]). */
    static byte[] validFile() {
        return file("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]}}", 32);
    }

    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (int i = 0; i < dataBytes; i++) b.put((byte) (i * 37));
        return b.array();
    }

    static byte[] withHeaderLength(byte[] bytes, long length) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
        return copy;
    }

    static Path write(byte[] bytes) throws IOException {
        Path p = tmp.resolve("case" + (counter++) + ".safetensors");
        Files.write(p, bytes);
        return p;
    }

    static Stream<Arguments> malformedFiles() {
        byte[] valid = validFile();
        return Stream.of(
                Arguments.of("empty file", new byte[0], "too short"),
                Arguments.of("five bytes", new byte[5], "too short"),
                Arguments.of("truncated inside header", java.util.Arrays.copyOf(valid, 40), "runs past the end"),
                Arguments.of("truncated inside data", java.util.Arrays.copyOf(valid, valid.length - 3), "outside the data region"),
                Arguments.of("header length past EOF", withHeaderLength(valid, valid.length), "runs past the end"),
                Arguments.of("header length huge", withHeaderLength(valid, Long.MAX_VALUE / 2), "runs past the end"),
                Arguments.of("header length negative", withHeaderLength(valid, -1), "runs past the end"),
                Arguments.of("header not JSON", file("{\"a\":{\"dtype\":\"F32\",", 0), "not valid JSON"),
                Arguments.of("header not an object", file("[1,2,3]", 0), "does not start with '{'"),
                Arguments.of("header binary garbage", file("\u0000\u0001garbage", 0), "does not start with '{'"),
                Arguments.of("duplicate tensor name", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "Duplicate field 'a'"),
                Arguments.of("unknown dtype", file("{\"a\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "unknown dtype 'F17'"),
                Arguments.of("missing dtype", file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "missing dtype"),
                Arguments.of("negative dimension", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "not a non-negative integer"),
                Arguments.of("fractional dimension", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4), "not a non-negative integer"),
                Arguments.of("shape overflow", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,4]}}", 4), "too many elements"),
                Arguments.of("shape/bytes mismatch", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12), "needs 16 bytes"),
                Arguments.of("offsets reversed", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8), "not an ordered range"),
                Arguments.of("offsets out of range", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1000,1004]}}", 8), "outside the data region"),
                Arguments.of("offsets malformed", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "data_offsets must be [begin, end]"),
                Arguments.of("overlapping tensors", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "overlap tensor 'a'"),
                Arguments.of("hole between tensors", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12), "belong to no tensor"),
                Arguments.of("trailing bytes", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 9), "trailing bytes"),
                Arguments.of("metadata not strings", file("{\"__metadata__\":{\"format\":1},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "is not a string"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedFiles")
    void malformedSafetensorsGiveTheirOwnError(String what, byte[] bytes, String expected) throws IOException {
        Path p = write(bytes);
        expectError(() -> SafetensorsFile.open(p).close(), expected, p.getFileName().toString());
    }

    @Test
    void validSmallFileOpens() throws IOException {
        Path p = write(validFile());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertTrue(f.tensors().containsKey("a") && f.tensors().containsKey("b"));
            assertTrue(f.metadata().get("format").equals("pt"));
        }
    }

    /** Copies a sharded fixture model into a temp dir and applies {@code damage} to the copy. */
    static Path damagedCopy(String model, Consumer<Path> damage) throws IOException {
        Path dir = tmp.resolve("model" + (counter++));
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(Fixtures.path(model))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        damage.accept(dir);
        return dir;
    }

    static void edit(Path file, String from, String to) {
        try {
            String s = Files.readString(file);
            if (!s.contains(from)) throw new AssertionError(file + " does not contain " + from);
            Files.writeString(file, s.replaceFirst(java.util.regex.Pattern.quote(from), java.util.regex.Matcher.quoteReplacement(to)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Stream<Arguments> malformedModelDirs() {
        return Stream.of(
                Arguments.of("missing shard", (Consumer<Path>) d -> delete(d.resolve("model-00003-of-00004.safetensors")),
                        "shard 'model-00003-of-00004.safetensors' is named by the index but missing"),
                Arguments.of("index names a missing tensor", (Consumer<Path>) d -> edit(d.resolve(Checkpoint.INDEX_FILE),
                                "\"weight_map\": {", "\"weight_map\": {\"ghost.weight\": \"model-00001-of-00004.safetensors\","),
                        "names tensor 'ghost.weight' in shard 'model-00001-of-00004.safetensors', but that shard has no such tensor"),
                Arguments.of("index not JSON", (Consumer<Path>) d -> edit(d.resolve(Checkpoint.INDEX_FILE), "{", "{{"),
                        "not valid JSON"),
                Arguments.of("index without weight_map", (Consumer<Path>) d -> edit(d.resolve(Checkpoint.INDEX_FILE),
                        "\"weight_map\"", "\"weights\""), "missing the \"weight_map\" object"),
                Arguments.of("index escaping the directory", (Consumer<Path>) d -> edit(d.resolve(Checkpoint.INDEX_FILE),
                        "\"model-00001-of-00004.safetensors\"", "\"../model-00001-of-00004.safetensors\""),
                        "is not a plain file name"),
                Arguments.of("no weights at all", (Consumer<Path>) d -> delete(d.resolve(Checkpoint.INDEX_FILE)),
                        "no model.safetensors or model.safetensors.index.json"));
    }

    static void delete(Path p) {
        try {
            Files.delete(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedModelDirs")
    void malformedShardedCheckpointsGiveTheirOwnError(String what, Consumer<Path> damage, String expected) throws IOException {
        Path dir = damagedCopy("paligemma2-tiny-bf16", damage);
        expectError(() -> Checkpoint.open(dir).close(), expected, dir.getFileName().toString());
    }

    static Stream<Arguments> malformedConfigs() {
        return Stream.of(
                Arguments.of("config missing text_config", "\"text_config\"", "\"text_config_gone\"", "missing 'text_config'"),
                Arguments.of("wrong model_type", "\"model_type\": \"paligemma\"", "\"model_type\": \"llava\"",
                        "model_type is \"llava\""),
                Arguments.of("wrong text model_type", "\"model_type\": \"gemma\"", "\"model_type\": \"llama\"",
                        "supported decoders are \"gemma\""),
                Arguments.of("wrong vision model_type", "\"model_type\": \"siglip_vision_model\"", "\"model_type\": \"clip_vision_model\"",
                        "expected \"siglip_vision_model\""),
                Arguments.of("string where a number belongs", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": \"two\"",
                        "'num_hidden_layers' must be an integer"),
                Arguments.of("config not JSON", "{", "{]", "not valid JSON"),
                Arguments.of("heads not divisible", "\"num_key_value_heads\": 1", "\"num_key_value_heads\": 3",
                        "not a multiple of num_key_value_heads 3"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedConfigs")
    void malformedConfigsGiveTheirOwnError(String what, String from, String to, String expected) throws IOException {
        Path dir = damagedCopy("paligemma-tiny", d -> edit(d.resolve("config.json"), from, to));
        expectError(() -> PaliGemmaConfig.load(dir), expected, "config.json");
    }

    @Test
    void corpusHasAtLeastTwentyCases() {
        long n = malformedFiles().count() + malformedModelDirs().count() + malformedConfigs().count();
        assertTrue(n >= 20, "corpus has " + n + " cases");
    }

    /** Runs {@code action}, which must throw a CheckpointException whose message contains both strings. */
    static void expectError(org.junit.jupiter.api.function.Executable action, String expected, String fileName) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<Long> allocated = new ArrayList<>();
        CheckpointException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            long before = threads.getCurrentThreadAllocatedBytes();
            CheckpointException thrown = assertThrows(CheckpointException.class, action);
            allocated.add(threads.getCurrentThreadAllocatedBytes() - before);
            return thrown;
        });
        assertTrue(e.getMessage().contains(expected), "message should contain «" + expected + "» but was: " + e.getMessage());
        assertTrue(e.getMessage().contains(fileName), "message should name the file " + fileName + ": " + e.getMessage());
        assertTrue(allocated.get(0) < 8L << 20, "allocated " + allocated.get(0) + " bytes while rejecting the input");
    }
}
