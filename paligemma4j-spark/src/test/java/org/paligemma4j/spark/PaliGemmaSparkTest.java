package org.paligemma4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.cli.Main;
import org.paligemma4j.testing.Fixtures;

/**
 * The Spark transformation and job on local[2] against the command line: 40 fixture images (copies of the three
 * fixture images, so most are duplicates, plus two files that are not images) captioned and searched for objects
 * on the tiny fixture model; every row must equal {@code paligemma caption|detect --json} for its file.
 */
class PaliGemmaSparkTest {
    static final String MODEL = Fixtures.path("paligemma-tiny").toString();
    static final String TOKENS = "20";
    static final String LABELS = "house";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path images;
    static List<String> files = new ArrayList<>();
    static final List<String> UNREADABLE = new ArrayList<>();
    /** The command line's --json output per file and task. */
    static final Map<String, JsonNode> CLI_CAPTION = new HashMap<>(), CLI_DETECT = new HashMap<>();
    static SparkSession spark;

    @BeforeAll
    static void setUp() throws IOException {
        images = Files.createDirectories(dir.resolve("images"));
        String[] sources = {"shapes_text.png", "photo_like.jpg", "tiny_gray.png"};
        for (int i = 0; i < 38; i++) {
            String source = sources[i % sources.length];
            Path copy = images.resolve(String.format("img%02d_%s", i, source));
            Files.copy(Fixtures.path("images", source), copy);
        }
        byte[] jpeg = Files.readAllBytes(Fixtures.path("images", "photo_like.jpg"));
        Files.write(images.resolve("truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length / 3));
        Files.writeString(images.resolve("notes.png"), "not an image\n");
        UNREADABLE.add(images.resolve("notes.png").toString());
        UNREADABLE.add(images.resolve("truncated.jpg").toString());
        try (var list = Files.list(images)) {
            list.map(Path::toString).sorted().forEach(files::add);
        }
        assertEquals(40, files.size());
        // The command line on the first copy of each source; the other copies hold the same bytes, so the same output.
        Map<String, JsonNode> caption = new HashMap<>(), detect = new HashMap<>();
        for (String f : files) {
            if (UNREADABLE.contains(f)) continue;
            String name = Path.of(f).getFileName().toString();
            String source = name.substring(name.indexOf('_') + 1);
            if (!caption.containsKey(source)) {
                caption.put(source, cli("caption", "--model", MODEL, f, "--max-new-tokens", TOKENS, "--json"));
                detect.put(source, cli("detect", "--model", MODEL, f, LABELS, "--max-new-tokens", TOKENS, "--json"));
            }
            CLI_CAPTION.put(f, caption.get(source));
            CLI_DETECT.put(f, detect.get(source));
        }
        assertEquals(3, caption.size());
        spark = SparkSession.builder().master("local[2]").appName("paligemma-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.warehouse.dir", dir.resolve("warehouse").toString())
                .getOrCreate();
    }

    @AfterAll
    static void tearDown() {
        if (spark != null) spark.stop();
    }

    /** {@code paligemma ARGS} in this JVM; its stdout parsed as JSON. */
    static synchronized JsonNode cli(String... args) throws IOException {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(0, Main.run(args), () -> "paligemma " + String.join(" ", args));
        } finally {
            System.setOut(old);
        }
        return JSON.readTree(out.toString(StandardCharsets.UTF_8));
    }

    private static Dataset<Row> pathTable(List<String> paths, int partitions) {
        var rows = paths.stream().map(p -> RowFactory.create((Object) p)).toList();
        return spark.createDataFrame(rows, DataTypes.createStructType(List.of(
                DataTypes.createStructField("image", DataTypes.StringType, true)))).repartition(partitions);
    }

    @Test
    void captionsOfPathColumnEqualTheCommandLineAndBadFilesCarryAnError() {
        ImageMetrics metrics = ImageMetrics.register(spark.sparkContext());
        // Two partitions in one JVM: both submit to the same engine, so their rows decode in shared batches.
        var input = spark.createDataFrame(files.stream().map(p -> RowFactory.create((Object) p)).toList(),
                DataTypes.createStructType(List.of(DataTypes.createStructField("image", DataTypes.StringType, true))));
        List<Row> rows = PaliGemmaTransform.forModel(MODEL).withMaxNewTokens(Integer.parseInt(TOKENS)).withBatchSize(4)
                .transform(input.coalesce(2), metrics).collectAsList();
        assertEquals(40, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            String file = r.getString(0);
            assertEquals(files.get(i), file, "rows come back in input order");
            assertEquals(List.of("image", "text", "error"), List.of(r.schema().fieldNames()));
            if (UNREADABLE.contains(file)) {
                assertNull(r.getAs("text"), file);
                String error = r.getAs("error");
                assertNotNull(error, file);
                assertTrue(error.startsWith(file + ": "), error);
            } else {
                assertNull(r.getAs("error"), file);
                assertEquals(CLI_CAPTION.get(file).get("text").asText(), r.getAs("text"), file);
            }
        }
        assertEquals(40, metrics.images().value());
        assertEquals(2, metrics.failures().value());
        assertEquals(38L * Integer.parseInt(TOKENS), metrics.tokens().value(), "20 tokens per readable image (no <eos> on this model)");
    }

    @Test
    void detectionsOfBinaryFileContentEqualTheCommandLineAndSurviveParquet() {
        Dataset<Row> binary = spark.read().format("binaryFile").load(images.toString());
        Dataset<Row> out = PaliGemmaTransform.forModel(MODEL).withTask(ImageTask.DETECT).withPrompt(LABELS)
                .withMaxNewTokens(Integer.parseInt(TOKENS)).withImageColumn("content")
                .transform(binary).drop("content");
        String parquet = dir.resolve("detect.parquet").toString();
        out.write().parquet(parquet);
        List<Row> rows = spark.read().parquet(parquet).orderBy("path").collectAsList();
        assertEquals(40, rows.size());
        int objects = 0;
        for (Row r : rows) {
            String file = Path.of(java.net.URI.create(r.getAs("path"))).toString();
            if (UNREADABLE.contains(file)) {
                assertNull(r.getAs("text"));
                assertNull(r.getAs("objects"));
                assertTrue(((String) r.getAs("error")).contains(images.relativize(Path.of(file)).toString()), (String) r.getAs("error"));
                continue;
            }
            JsonNode expected = CLI_DETECT.get(file);
            assertNull(r.getAs("error"), file);
            assertEquals(expected.get("text").asText(), r.getAs("text"), file);
            List<Row> got = r.getList(r.fieldIndex("objects"));
            assertEquals(expected.get("objects").size(), got.size(), file);
            for (int i = 0; i < got.size(); i++) assertObjectEquals(expected.get("objects").get(i), got.get(i), file + " object " + i);
            objects += got.size();
        }
        assertTrue(objects > 0, "the fixture outputs hold objects to compare");
    }

    /** A Spark object row against the command line's JSON object (label, loc, seg, box, valid). */
    static void assertObjectEquals(JsonNode expected, Row got, String what) {
        assertEquals(expected.get("label").isNull() ? null : expected.get("label").asText(), got.getAs("label"), what);
        JsonNode box = expected.get("box");
        assertEquals(box.get("x_min").asInt(), (int) got.getAs("x_min"), what);
        assertEquals(box.get("y_min").asInt(), (int) got.getAs("y_min"), what);
        assertEquals(box.get("x_max").asInt(), (int) got.getAs("x_max"), what);
        assertEquals(box.get("y_max").asInt(), (int) got.getAs("y_max"), what);
        assertEquals(expected.get("valid").asBoolean(), (boolean) got.getAs("valid"), what);
        List<Integer> loc = new ArrayList<>();
        expected.get("loc").forEach(n -> loc.add(n.asInt()));
        assertEquals(loc, got.getList(got.fieldIndex("loc")), what);
        if (expected.get("seg").isNull()) {
            assertTrue(got.isNullAt(got.fieldIndex("seg")), what);
        } else {
            List<Integer> seg = new ArrayList<>();
            expected.get("seg").forEach(n -> seg.add(n.asInt()));
            assertEquals(seg, got.getList(got.fieldIndex("seg")), what);
        }
    }

    @Test
    void jobWritesOneJsonLinePerImageEqualToTheCommandLine() throws IOException {
        Path out = dir.resolve("detect.jsonl");
        int code = PaliGemmaSparkJob.run("--model", MODEL, "--input", images.toString(), "--task", "detect", "--prompt", LABELS,
                "--max-new-tokens", TOKENS, "--output", out.toString(), "--batch-size", "4");
        assertEquals(0, code);
        List<String> lines = Files.readAllLines(out);
        assertEquals(40, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = JSON.readTree(lines.get(i));
            String file = files.get(i);
            assertEquals(List.of("image", "text", "objects", "error"), iterable(line.fieldNames()));
            assertEquals(file, line.get("image").asText(), "lines come in path order");
            if (UNREADABLE.contains(file)) {
                assertTrue(line.get("text").isNull());
                assertTrue(line.get("objects").isNull());
                assertTrue(line.get("error").asText().startsWith(file + ": "), line.toString());
                continue;
            }
            JsonNode expected = CLI_DETECT.get(file);
            assertTrue(line.get("error").isNull(), line.toString());
            assertEquals(expected.get("text").asText(), line.get("text").asText(), file);
            assertEquals(expected.get("objects").size(), line.get("objects").size(), file);
            for (int k = 0; k < expected.get("objects").size(); k++) {
                JsonNode e = expected.get("objects").get(k), g = line.get("objects").get(k);
                assertEquals(e.get("label"), g.get("label"));
                for (String f : List.of("x_min", "y_min", "x_max", "y_max")) assertEquals(e.get("box").get(f), g.get(f), file + " " + f);
                assertEquals(e.get("valid"), g.get("valid"));
                assertEquals(e.get("loc"), g.get("loc"));
                assertEquals(e.get("seg"), g.get("seg"));
            }
        }
    }

    @Test
    void jobCaptionsIntoParquetAndReadsBackThroughSparkItself() throws IOException {
        Path out = dir.resolve("captions.parquet");
        String glob = images.resolve("img0*").toString();
        assertEquals(0, PaliGemmaSparkJob.run("--model", MODEL, "--input", glob, "--task", "caption",
                "--max-new-tokens", TOKENS, "--output", out.toString()));
        List<Row> rows = spark.read().parquet(out.toString()).orderBy("image").collectAsList();
        assertEquals(10, rows.size(), "img00..img09");
        for (Row r : rows) {
            assertEquals(CLI_CAPTION.get(r.getString(0)).get("text").asText(), r.getAs("text"));
            assertNull(r.getAs("error"));
        }
        assertTrue(spark.sparkContext().isStopped() == false, "the job leaves a session it did not start running");
    }

    @Test
    void missingFilesAndNullImagesAreRowErrorsNotFailedJobs() {
        String missing = dir.resolve("no-such.png").toString();
        List<Row> rows = PaliGemmaTransform.forModel(MODEL).withMaxNewTokens(4)
                .transform(pathTable(Arrays.asList(missing, null, files.getFirst()), 1)).collectAsList();
        assertEquals(3, rows.size());
        Map<String, Row> byImage = new HashMap<>();
        for (Row r : rows) byImage.put(r.getString(0), r);
        assertEquals(missing + ": no such file", byImage.get(missing).getAs("error"));
        assertTrue(((String) byImage.get(null).getAs("error")).contains("no image"), (String) byImage.get(null).getAs("error"));
        assertNull(byImage.get(files.getFirst()).getAs("error"));
    }

    @Test
    void tasksAndPromptsPerRowEqualTheCommandLine() throws IOException {
        String shapes = Fixtures.path("images", "shapes_text.png").toString(), photo = Fixtures.path("images", "photo_like.jpg").toString();
        String gray = Fixtures.path("images", "tiny_gray.png").toString();
        String vae = Fixtures.path("segmentation", "vae-oid.random.npz").toString();
        String[][] cases = {
                {shapes, "ocr", null}, {photo, "ask", "what is in the image?"}, {gray, "generate", "caption es"},
                {shapes, "detect", "boat ; cat"}, {gray, "segment", "house"}, {photo, null, "de"}, {shapes, "paint", null},
                {photo, "answer", null}};
        JsonNode[] expected = {
                cli("ocr", "--model", MODEL, shapes, "--max-new-tokens", TOKENS, "--json"),
                cli("ask", "--model", MODEL, photo, "what is in the image?", "--max-new-tokens", TOKENS, "--json"),
                cli("generate", "--model", MODEL, "--image", gray, "--prompt", "caption es", "--max-new-tokens", TOKENS, "--json"),
                cli("detect", "--model", MODEL, shapes, "boat ; cat", "--max-new-tokens", TOKENS, "--json"),
                cli("segment", "--model", MODEL, gray, "house", "--vae", vae, "--max-new-tokens", TOKENS, "--json"),
                cli("caption", "--model", MODEL, photo, "--lang", "de", "--max-new-tokens", TOKENS, "--json"),
                null, null};
        List<Row> input = new ArrayList<>();
        for (String[] c : cases) input.add(RowFactory.create(c[0], c[1], c[2]));
        var schema = DataTypes.createStructType(List.of(DataTypes.createStructField("file", DataTypes.StringType, false),
                DataTypes.createStructField("task", DataTypes.StringType, true), DataTypes.createStructField("prompt", DataTypes.StringType, true)));
        PaliGemmaTransform t = PaliGemmaTransform.forModel(MODEL).withMaxNewTokens(Integer.parseInt(TOKENS)).withImageColumn("file")
                .withTaskColumn("task").withPromptColumn("prompt").withMaskDecoder(vae);
        List<Row> rows = t.transform(spark.createDataFrame(input, schema).coalesce(1)).collectAsList();
        assertEquals(List.of("file", "task", "prompt", "text", "objects", "error"), List.of(rows.getFirst().schema().fieldNames()));
        for (int i = 0; i < cases.length; i++) {
            Row r = rows.get(i);
            String what = Arrays.toString(cases[i]);
            if (expected[i] == null) {
                assertNull(r.getAs("text"), what);
                assertTrue(((String) r.getAs("error")).startsWith(cases[i][0] + ": "), (String) r.getAs("error"));
                continue;
            }
            assertNull(r.getAs("error"), what);
            assertEquals(expected[i].get("text").asText(), r.getAs("text"), what);
            JsonNode objects = expected[i].get("objects");
            if (objects == null) {
                assertNull(r.getAs("objects"), what);
                continue;
            }
            List<Row> got = r.getList(r.fieldIndex("objects"));
            assertEquals(objects.size(), got.size(), what);
            for (int k = 0; k < got.size(); k++) {
                assertObjectEquals(objects.get(k), got.get(k), what + " object " + k);
                JsonNode mask = objects.get(k).get("mask");
                if (mask == null || mask.isNull()) {
                    assertTrue(got.get(k).isNullAt(got.get(k).fieldIndex("mask_rle")), what);
                } else {
                    Row rle = got.get(k).getAs("mask_rle");
                    assertEquals(mask.get("rle").get("counts").toString(), rle.getList(1).toString().replace(" ", ""), what);
                }
            }
        }
        assertTrue(((String) rows.get(6).getAs("error")).contains("unknown task 'paint'"));
        assertTrue(((String) rows.get(7).getAs("error")).contains("answer needs a question"));
    }

    @Test
    void jobReadsAParquetTableOfImageBytes() throws IOException {
        String table = dir.resolve("table.parquet").toString();
        spark.read().format("binaryFile").load(images.toString()).write().parquet(table);
        Path out = dir.resolve("table-captions.jsonl");
        assertEquals(0, PaliGemmaSparkJob.run("--model", MODEL, "--input", table, "--task", "caption",
                "--max-new-tokens", TOKENS, "--output", out.toString()));
        List<String> lines = Files.readAllLines(out);
        assertEquals(40, lines.size());
        int failed = 0;
        for (String l : lines) {
            JsonNode line = JSON.readTree(l);
            String file = Path.of(java.net.URI.create(line.get("image").asText())).toString();
            if (UNREADABLE.contains(file)) {
                failed++;
                assertTrue(line.get("error").asText().contains(images.relativize(Path.of(file)).toString()), l);
            } else {
                assertEquals(CLI_CAPTION.get(file).get("text").asText(), line.get("text").asText(), file);
            }
        }
        assertEquals(2, failed);

        // Bytes in a column named image, no path column, a column named text: the rows are named by their number.
        String bare = dir.resolve("bare.parquet").toString();
        spark.read().parquet(table).orderBy("path").select(functions.col("content").as("image"), functions.lit("old").as("text"))
                .coalesce(1).write().parquet(bare);
        Path out2 = dir.resolve("bare-captions.jsonl");
        assertEquals(0, PaliGemmaSparkJob.run("--model", MODEL, "--input", bare, "--task", "caption",
                "--max-new-tokens", TOKENS, "--output", out2.toString()));
        List<String> bareLines = Files.readAllLines(out2);
        assertEquals(40, bareLines.size());
        for (int i = 0; i < bareLines.size(); i++) {
            JsonNode line = JSON.readTree(bareLines.get(i));
            assertTrue(line.get("image").isNull(), bareLines.get(i));
            if (UNREADABLE.contains(files.get(i))) {
                assertTrue(line.get("error").asText().startsWith("row " + i + " of partition 0: "), bareLines.get(i));
            } else {
                assertEquals(CLI_CAPTION.get(files.get(i)).get("text").asText(), line.get("text").asText(), files.get(i));
            }
        }
    }

    @Test
    void wrongColumnsAreRefusedOnTheDriverWithTheirNames() {
        Dataset<Row> paths = pathTable(List.of(files.getFirst()), 1);
        var t = PaliGemmaTransform.forModel(MODEL);
        var missing = assertThrows(IllegalArgumentException.class, () -> t.withImageColumn("picture").transform(paths));
        assertTrue(missing.getMessage().contains("no image column 'picture'"), missing.getMessage());
        var clash = assertThrows(IllegalArgumentException.class, () -> t.transform(paths.withColumn("text", functions.lit("x"))));
        assertTrue(clash.getMessage().contains("already has a column 'text'"), clash.getMessage());
        var type = assertThrows(IllegalArgumentException.class, () -> t.transform(paths.withColumn("image", functions.lit(3))));
        assertTrue(type.getMessage().contains("path (string) or the image file's bytes (binary)"), type.getMessage());
        var noLabels = assertThrows(IllegalArgumentException.class, () -> t.withTask(ImageTask.DETECT).transform(paths));
        assertTrue(noLabels.getMessage().contains("detect needs labels"), noLabels.getMessage());
    }

    @Test
    void aModelShippedWithTheJobIsFoundByItsRelativeName() {
        // What --files/--archives do on a cluster: the model folder lands in Spark's files folder on each executor.
        spark.sparkContext().addFile(MODEL, true);
        String shipped = Path.of(MODEL).getFileName().toString();
        assertTrue(!Files.exists(Path.of(shipped)), "not in the working folder, only in Spark's files folder");
        List<Row> rows = PaliGemmaTransform.forModel(shipped).withMaxNewTokens(Integer.parseInt(TOKENS))
                .transform(pathTable(List.of(files.getFirst()), 1)).collectAsList();
        assertNull(rows.getFirst().getAs("error"));
        assertEquals(CLI_CAPTION.get(files.getFirst()).get("text").asText(), rows.getFirst().getAs("text"));
    }

    @Test
    void badArgumentsExitWithTwoAndNameTheProblem() {
        assertEquals(2, PaliGemmaSparkJob.run("--model", MODEL, "--input", images.toString(), "--output", "x.jsonl"));
        assertEquals(2, PaliGemmaSparkJob.run("--model", MODEL, "--input", images.toString(), "--task", "detect", "--output", "x.jsonl"));
        assertEquals(2, PaliGemmaSparkJob.run("--model", MODEL, "--input", images.toString(), "--task", "caption", "--output", "x.csv"));
        assertEquals(2, PaliGemmaSparkJob.run("--model", MODEL, "--input", images.toString(), "--task", "paint", "--output", "x.jsonl"));
        assertEquals(1, PaliGemmaSparkJob.run("--model", MODEL, "--input", dir.resolve("nothing-here").toString(), "--task", "ocr",
                "--output", dir.resolve("x.jsonl").toString()));
        assertEquals(1, PaliGemmaSparkJob.run("--model", dir.resolve("no-model").toString(), "--input", images.toString(), "--task", "ocr",
                "--output", dir.resolve("x.jsonl").toString()));
        assertEquals(1, PaliGemmaSparkJob.run("--model", MODEL, "--input", images.toString(), "--task", "ocr",
                "--output", dir.resolve("no-folder/x.jsonl").toString()));
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> l = new ArrayList<>();
        it.forEachRemaining(l::add);
        return l;
    }
}
