package org.paligemma4j;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.ImagePreprocessor;
import org.paligemma4j.image.InvalidImageException;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.io.BigVisionCheckpoint;
import org.paligemma4j.io.Checkpoint;
import org.paligemma4j.io.CheckpointException;
import org.paligemma4j.io.GenerationConfig;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.io.NpzFile;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.io.SafetensorsFile;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.tensor.WeightFormat;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.JsonMutator;
import org.paligemma4j.testing.Mutator;
import org.paligemma4j.tokenizer.Tokenizer;
import org.paligemma4j.tokenizer.TokenizerFormatException;

/**
 * Mutation testing of every format paligemma4j reads: seeded mutants of real files (bit flips, boundary bytes,
 * truncation, extension, deleted/duplicated runs, splices from a second real file; see {@link Mutator}) must each
 * either load (and then be usable: tensors read, text tokenized, pixels decoded, configs bound) or fail with our own
 * error naming the file and the problem — never a JVM error, a hang, an {@code OutOfMemoryError}, a
 * {@code StackOverflowError} or an unexplained exception such as {@code ArrayIndexOutOfBoundsException}.
 *
 * <p>JSON formats (configs, the safetensors index, tokenizer.json) and the safetensors header also get structure-aware
 * mutants on every other seed ({@link JsonMutator}: valid JSON with hostile values, e.g. a layer count of 2^31), which
 * byte flips rarely produce; .npy arrays (alone and inside .npz archives, which are re-zipped valid) get hostile
 * header dicts (shapes of 2^63, negative or non-integer dimensions, foreign dtypes, Fortran order).
 *
 * <p>CI runs {@value #DEFAULT_MUTANTS} mutants per format. The long run is one command:
 * {@code mvn -o verify -pl paligemma4j-core -Dtest=LoaderMutationTest -Dpaligemma.mutants=1000} (mutants per format).
 * {@code -Dpaligemma.mutants.format=NAME} runs one format. A failure prints the format and the seed; {@code new Mutator(seed).mutate(original, donor)} rebuilds the mutant.
 */
class LoaderMutationTest {
    static final int DEFAULT_MUTANTS = 120;
    static final long TIMEOUT_SECONDS = 20;

    private static final Map<String, String> SUMMARY = new LinkedHashMap<>();

    static int mutantsPerFormat() {
        String n = System.getProperty("paligemma.mutants");
        return n == null || n.isBlank() ? DEFAULT_MUTANTS : Integer.parseInt(n.strip());
    }

    /** A loader under test: reads the mutant at {@code file} (already written there) and uses what it got. */
    interface Loader {
        void load(Path file) throws Exception;
    }

    /**
     * One format: real files to mutate, the file name the mutant is written as (inside {@code work}), how it is
     * loaded, and which failures are our own (the error type the loader documents, naming the file).
     */
    record Format(String name, List<byte[]> seeds, String fileName, Loader loader, Class<? extends Exception> ownError,
                  Structure structure) {
        Format(String name, List<byte[]> seeds, String fileName, Loader loader, Class<? extends Exception> ownError) {
            this(name, seeds, fileName, loader, ownError, fileName.endsWith(".json") ? Structure.JSON : Structure.NONE);
        }

        Format withStructure(Structure s) {
            return new Format(name, seeds, fileName, loader, ownError, s);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Which structure-aware mutation (besides the byte-level ones) a format gets: every other mutant uses it. */
    enum Structure {
        NONE, JSON, SAFETENSORS_HEADER, NPY_HEADER, NPZ_MEMBER_HEADER;

        byte[] mutate(long seed, byte[] original) {
            return switch (this) {
                case NONE -> throw new IllegalStateException();
                case JSON -> new JsonMutator(seed).mutate(original);
                case SAFETENSORS_HEADER -> {
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(original).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    int headerLength = (int) b.getLong(0);
                    byte[] header = new JsonMutator(seed).mutate(java.util.Arrays.copyOfRange(original, 8, 8 + headerLength));
                    java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(original.length - headerLength + header.length)
                            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    out.putLong(header.length).put(header).put(original, 8 + headerLength, original.length - 8 - headerLength);
                    yield out.array();
                }
                case NPY_HEADER -> mutateNpyHeader(new java.util.SplittableRandom(seed), original);
                case NPZ_MEMBER_HEADER -> {
                    // A valid zip whose one member has a hostile .npy header, so the array layer is reached.
                    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
                    Map<String, byte[]> members = new LinkedHashMap<>();
                    int method = ZipEntry.STORED;
                    try (java.util.zip.ZipInputStream in = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(original))) {
                        for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                            members.put(e.getName(), in.readAllBytes());
                            method = e.getMethod();
                        }
                        String victim = new ArrayList<>(members.keySet()).get(random.nextInt(members.size()));
                        members.put(victim, mutateNpyHeader(random, members.get(victim)));
                        yield zip(members, method);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            };
        }
    }

    private static final String[] HOSTILE_SHAPES = {"", "0,", "-1,", "4294967296, 4294967296", "9223372036854775807,",
            "2, 3, 4, 5, 6, 7, 8", "1e3,", "3, 2", "99999999999999999999,", "1, 1, 1, 1", "x,", "2,, 3"};
    private static final String[] HOSTILE_DTYPES = {"<f8", ">f4", "|V2", "<V4", "|O", "<U10", "<f2", "=f4", "|b1", "", "<c8",
            "<i8", "|u1", "f4", "<f4"};

    /** A .npy (format 1.0) with its header dict's shape, dtype or order replaced by a hostile value. */
    static byte[] mutateNpyHeader(java.util.SplittableRandom random, byte[] npy) {
        if (npy.length < 10 || npy[6] != 1) return npy.clone();
        int length = (npy[8] & 0xFF) | (npy[9] & 0xFF) << 8;
        if (10 + length > npy.length) return npy.clone();
        String header = new String(npy, 10, length, java.nio.charset.StandardCharsets.ISO_8859_1).strip();
        String changed = switch (random.nextInt(4)) {
            case 0, 1 -> {
                String shape = HOSTILE_SHAPES[random.nextInt(HOSTILE_SHAPES.length)];
                if (random.nextBoolean()) {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\((\\d+)").matcher(header);
                    if (m.find()) shape = (Long.parseLong(m.group(1)) + (random.nextBoolean() ? 1 : -1)) + header.substring(m.end(), header.indexOf(')', m.end()));
                }
                yield header.replaceFirst("'shape': \\([^)]*\\)", java.util.regex.Matcher.quoteReplacement("'shape': (" + shape + ")"));
            }
            case 2 -> header.replaceFirst("'descr': '[^']*'", "'descr': '" + HOSTILE_DTYPES[random.nextInt(HOSTILE_DTYPES.length)] + "'");
            default -> header.replace("False", "True");
        };
        int total = 10 + changed.length() + 1;
        String padded = changed + " ".repeat((64 - total % 64) % 64) + "\n";
        byte[] text = padded.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] out = new byte[10 + text.length + npy.length - 10 - length];
        System.arraycopy(npy, 0, out, 0, 8);
        out[8] = (byte) text.length;
        out[9] = (byte) (text.length >> 8);
        System.arraycopy(text, 0, out, 10, text.length);
        System.arraycopy(npy, 10 + length, out, 10 + text.length, npy.length - 10 - length);
        return out;
    }

    static Stream<Format> formats() throws IOException {
        List<Format> f = new ArrayList<>();
        Path pg1 = Fixtures.path("paligemma-tiny-bf16"), pg2 = Fixtures.path("paligemma2-tiny-bf16");
        f.add(new Format("safetensors", List.of(read(pg1.resolve("model.safetensors")),
                read(pg2.resolve("model-00001-of-00004.safetensors")), read(pg2.resolve("model-00004-of-00004.safetensors"))),
                "model.safetensors", LoaderMutationTest::loadSafetensors, CheckpointException.class)
                .withStructure(Structure.SAFETENSORS_HEADER));
        f.add(new Format("safetensors index", List.of(read(pg2.resolve("model.safetensors.index.json"))),
                "model.safetensors.index.json", file -> loadModelDirectory(file, pg2), CheckpointException.class));
        f.add(new Format("config.json", List.of(read(pg1.resolve("config.json")), read(pg2.resolve("config.json"))),
                "config.json", LoaderMutationTest::loadConfigAndBind, CheckpointException.class));
        f.add(new Format("generation_config.json", List.of(read(pg1.resolve("generation_config.json")),
                read(pg2.resolve("generation_config.json"))), "generation_config.json",
                file -> GenerationConfig.load(file.getParent(), PaliGemmaConfig.load(pg2)), CheckpointException.class));
        f.add(new Format("preprocessor_config.json", List.of(read(pg1.resolve("preprocessor_config.json")),
                read(Fixtures.path("paligemma2-tiny", "preprocessor_config.json"))), "preprocessor_config.json",
                LoaderMutationTest::loadPreprocessor, IOException.class));
        f.add(new Format("tokenizer.model", List.of(read(pg1.resolve("tokenizer.model")),
                read(Fixtures.path("tokenizer", "paligemma_fixture_bpe.model"))), "tokenizer.model",
                file -> useTokenizer(Tokenizer.fromSentencePieceModel(Files.readAllBytes(file), file.toString())),
                TokenizerFormatException.class));
        // The checkpoint's added tokens beside tokenizer.model (PaliGemma's <image> lives only there).
        for (String sidecar : List.of("added_tokens.json", "tokenizer_config.json")) {
            f.add(new Format(sidecar, List.of(read(pg1.resolve(sidecar))), sidecar,
                    file -> useTokenizer(Tokenizer.load(modelDirectoryWith(file, pg1))), TokenizerFormatException.class));
        }
        f.add(new Format("tokenizer.json", List.of(resource("small_tokenizer.json")), "tokenizer.json",
                file -> useTokenizer(Tokenizer.load(file)), TokenizerFormatException.class));
        f.add(new Format("big_vision npz", List.of(read(Fixtures.path("bigvision_npz", "paligemma-tiny.bf16.npz")),
                read(Fixtures.path("bigvision_npz", "paligemma2-tiny.bf16.npz")),
                deflated(read(Fixtures.path("bigvision_npz", "paligemma-tiny.bf16.npz")))), "model.npz",
                LoaderMutationTest::loadBigVision, CheckpointException.class).withStructure(Structure.NPZ_MEMBER_HEADER));
        f.add(new Format("npz", List.of(smallNpz(ZipEntry.STORED), smallNpz(ZipEntry.DEFLATED), zip64Npz()), "arrays.npz",
                LoaderMutationTest::loadNpz, IOException.class).withStructure(Structure.NPZ_MEMBER_HEADER));
        f.add(new Format("npy", List.of(read(Fixtures.path("images", "tiny_gray.png.rgb.npy")),
                read(Fixtures.path("golden", "paligemma-tiny", "caption_png", "input_ids.npy")),
                read(Fixtures.path("golden", "paligemma-tiny", "caption_png", "image_features_projected.npy"))),
                "array.npy", LoaderMutationTest::loadNpy, CheckpointException.class).withStructure(Structure.NPY_HEADER));
        for (String ext : List.of("png", "jpg", "gif", "bmp", "webp")) {
            f.add(new Format(ext.equals("jpg") ? "JPEG" : ext.toUpperCase(Locale.ROOT), images(ext), "image." + ext,
                    LoaderMutationTest::loadImage, InvalidImageException.class));
        }
        String only = System.getProperty("paligemma.mutants.format");
        return f.stream().filter(x -> only == null || only.isBlank() || x.name.equalsIgnoreCase(only));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("formats")
    void everyMutantLoadsOrFailsWithOurOwnErrorNamingTheFile(Format format, @TempDir Path work) throws Exception {
        int count = mutantsPerFormat();
        long base = format.name.hashCode() * 1_000_003L;
        int loaded = 0, refused = 0;
        List<String> failures = new ArrayList<>();
        long t0 = System.nanoTime();
        Path file = work.resolve(format.fileName);
        // A worker per format: a hung loader fails its format and is abandoned (daemon), not inherited by the next.
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mutant-loader " + format);
            t.setDaemon(true);
            return t;
        });
        for (int i = 0; i < count && failures.size() < 5; i++) {
            long seed = base + i;
            byte[] original = format.seeds.get(i % format.seeds.size());
            byte[] donor = format.seeds.get((i + 1) % format.seeds.size());
            boolean structural = format.structure != Structure.NONE && i % 2 == 1;
            byte[] mutant = structural ? format.structure.mutate(seed, original) : new Mutator(seed).mutate(original, donor);
            Files.deleteIfExists(file);
            Files.write(file, mutant);
            Future<?> run = worker.submit(() -> {
                format.loader.load(file);
                return null;
            });
            try {
                run.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                loaded++;
            } catch (TimeoutException e) {
                run.cancel(true);
                fail(format + " mutant seed " + seed + " did not load or fail within " + TIMEOUT_SECONDS + " s (hang?)");
            } catch (ExecutionException e) {
                Throwable t = e.getCause();
                String problem = judge(format, t, file);
                if (problem == null) {
                    refused++;
                } else {
                    failures.add(format + (structural ? " structural" : "") + " mutant seed " + seed + " (from seed file "
                            + (i % format.seeds.size()) + "): "
                            + problem + "\n" + stackTrace(t));
                }
            }
        }
        worker.shutdownNow();
        double seconds = (System.nanoTime() - t0) / 1e9;
        String line = String.format(Locale.ROOT, "%-26s %6d mutants: %6d loaded, %6d refused with our error, %.1f s",
                format, loaded + refused + failures.size(), loaded, refused, seconds);
        SUMMARY.put(format.name, line);
        System.out.println(line);
        if (!failures.isEmpty()) fail(String.join("\n\n", failures));
    }

    @AfterAll
    static void printSummary() {
        System.out.println("loader mutation summary (" + mutantsPerFormat() + " mutants per format):");
        SUMMARY.values().forEach(s -> System.out.println("  " + s));
    }

    /** Null when {@code t} is our own error naming the file and saying what is wrong; else what is wrong with it. */
    static String judge(Format format, Throwable t, Path file) {
        if (!format.ownError.isInstance(t)) return "escaped as " + t;
        if (t instanceof java.nio.file.FileSystemException) return "escaped as a file-system error " + t;
        String m = t.getMessage();
        String name = file.getFileName().toString();
        if (m == null || !m.contains(name)) return "message does not name the file: " + m;
        if (m.replace(file.toString(), "").replace(name, "").strip().length() < 12) return "message says nothing about the problem: " + m;
        return null;
    }

    // ---------------------------------------------------------------- loaders

    static void loadSafetensors(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (SafeTensor t : f.tensors().values()) {
                if (t.elementCount() > 0 && t.dtype().isFloatingPoint()) {
                    t.getFloat(0);
                    t.getFloat(t.elementCount() - 1);
                }
            }
        }
    }

    /** The mutant is one file of a model directory whose other files are the fixture's (linked, never written). */
    static Path modelDirectoryWith(Path file, Path fixture) throws IOException {
        Path dir = file.getParent();
        try (Stream<Path> files = Files.list(fixture)) {
            for (Path p : files.toList()) {
                Path link = dir.resolve(p.getFileName());
                if (!link.equals(file) && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createSymbolicLink(link, p);
                }
            }
        }
        return dir;
    }

    static void loadModelDirectory(Path file, Path fixture) throws IOException {
        Path dir = modelDirectoryWith(file, fixture);
        try (Checkpoint c = Checkpoint.open(dir)) {
            ModelWeights.bind(c, PaliGemmaConfig.load(fixture));
        }
    }

    private static Checkpoint pg2Weights;

    static synchronized Checkpoint pg2Weights() {
        if (pg2Weights == null) pg2Weights = Checkpoint.open(Fixtures.path("paligemma2-tiny-bf16"));
        return pg2Weights;
    }

    @AfterAll
    static synchronized void closeWeights() {
        if (pg2Weights != null) pg2Weights.close();
        pg2Weights = null;
    }

    /** A config that loads must also bind (or be refused) against real weights, without building huge tables. */
    static void loadConfigAndBind(Path file) {
        PaliGemmaConfig config = PaliGemmaConfig.loadFile(file);
        ModelWeights.bind(pg2Weights(), config, file.toString());
    }

    static void loadPreprocessor(Path file) throws IOException {
        ImagePreprocessor p = ImagePreprocessor.fromJson(file);
        if (p.width() == 56 && p.height() == 56) p.pixelValues(new RgbImage(3, 2, new byte[18]));
    }

    static void useTokenizer(Tokenizer t) {
        int[] ids = t.encode("caption en <loc0012> a cat, 12 ünïcödé 🐈\n");
        t.decode(ids);
    }

    static void loadBigVision(Path file) {
        try (PaliGemmaModel m = PaliGemmaModel.open(ModelSource.of(file), WeightFormat.AS_STORED)) {
            m.embedTokens(new int[] {0, 1, 2});
        }
        BigVisionCheckpoint.open(file).checkpoint().close();
    }

    static void loadNpz(Path file) throws IOException {
        try (NpzFile npz = NpzFile.open(file)) {
            for (String key : npz.keys()) npz.get(key).toDoubleArray();
        }
    }

    static void loadNpy(Path file) throws IOException {
        NpyArray a = NpyArray.read(file);
        a.toDoubleArray();
    }

    static void loadImage(Path file) throws IOException {
        RgbImage img = ImageLoader.decode(Files.readAllBytes(file), file.toString(), ImageLoader.DEFAULT_MAX_PIXELS);
        if ((long) img.width() * img.height() * 3 != img.rgb().length) throw new AssertionError("pixel count");
    }

    // ---------------------------------------------------------------- seeds

    static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = LoaderMutationTest.class.getResourceAsStream("testing/" + name)) {
            if (in == null) throw new IOException("missing test resource testing/" + name);
            return in.readAllBytes();
        }
    }

    static List<byte[]> images(String extension) throws IOException {
        List<byte[]> out = new ArrayList<>();
        JsonNode manifest = org.paligemma4j.image.PilCrossCheckTestAccess.manifest();
        for (JsonNode c : manifest.get("decode")) {
            String name = c.get("file").asText();
            if (name.endsWith("." + extension)) out.add(org.paligemma4j.image.PilCrossCheckTestAccess.resource(name));
        }
        for (String fixture : List.of("photo_like.jpg", "shapes_text.png", "tiny_gray.png")) {
            if (fixture.endsWith("." + extension)) out.add(read(Fixtures.path("images", fixture)));
        }
        return out;
    }

    /** An npz as numpy.savez writes it (stored) or savez_compressed (deflated), with the dtypes numpy arrays use. */
    static byte[] smallNpz(int method) throws IOException {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("weights", NpyArray.ofFloats(new float[] {1, -2, 3.5f, 4, 5, 6}, 2, 3));
        arrays.put("ids", NpyArray.ofLongs(new long[] {7, 8, 9}, 3));
        arrays.put("mask", NpyArray.ofBooleans(new boolean[] {true, false, true, true}, 2, 2));
        arrays.put("pixels", NpyArray.ofUnsignedBytes(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4));
        arrays.put("scalar", NpyArray.ofInts(new int[] {42}));
        Map<String, byte[]> members = new LinkedHashMap<>();
        for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            e.getValue().write(b);
            members.put(e.getKey() + ".npy", b.toByteArray());
        }
        return zip(members, method);
    }

    /** An npz in the zip64 layout of archives over 4 GiB. */
    static byte[] zip64Npz() throws IOException {
        ByteArrayOutputStream npy = new ByteArrayOutputStream();
        NpyArray.ofFloats(new float[] {1, 2, 3, 4}, 2, 2).write(npy);
        return org.paligemma4j.io.ZipArchiveTest.zip64("w.npy", npy.toByteArray());
    }

    static byte[] deflated(byte[] npz) throws IOException {
        Map<String, byte[]> members = new LinkedHashMap<>();
        try (java.util.zip.ZipInputStream in = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(npz))) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) members.put(e.getName(), in.readAllBytes());
        }
        return zip(members, ZipEntry.DEFLATED);
    }

    static byte[] zip(Map<String, byte[]> members, int method) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
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
        return bytes.toByteArray();
    }

    static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        String[] lines = w.toString().split("\n");
        return String.join("\n", java.util.Arrays.copyOf(lines, Math.min(lines.length, 12)));
    }
}
