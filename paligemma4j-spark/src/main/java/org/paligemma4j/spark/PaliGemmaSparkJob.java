package org.paligemma4j.spark;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * The batch job: every image of a folder, glob or table through one task, into a JSON Lines file or a Parquet
 * folder. For {@code spark-submit --class org.paligemma4j.spark.PaliGemmaSparkJob}, and for
 * {@code bin/paligemma-spark --master local[2] …} (run {@code --help} for the options).
 *
 * <p>JSON Lines output: one object per input image, in input order (paths sorted),
 * {@code {"image": "<path>", "text": "…", "objects": [...] or null, "error": null or "<message>"}}. A row that
 * failed carries its error and the job goes on; the exit code is 0 when the job ran (even with failed rows), 1
 * when it could not (missing input, bad model), 2 for wrong arguments.
 */
public final class PaliGemmaSparkJob {
    private static final String NAME = "paligemma-spark";

    private static final String HELP = """
            Usage: paligemma-spark [--master URL] --model DIR|ID --input DIR|GLOB|TABLE --task TASK [--prompt TEXT]
                                   --output FILE.jsonl|DIR.parquet [options]
            Runs PaliGemma over many images with Apache Spark.

              --master URL          Spark master, e.g. local[2] (default: spark-submit's, else local[*])
              --model DIR|ID        model directory as the executors see it, or a Hub id owner/name[@rev]
                                    (default: $PALIGEMMA_MODEL)
              --input PATH          a folder (its files, not recursive), a glob such as 'photos/*.jpg', or a
                                    Parquet table (a .parquet path, or a folder of a Spark table) with an image
                                    column holding paths or image bytes (--image-column)
              --task TASK           caption, answer, ocr, detect, segment or generate
              --prompt TEXT         detect/segment: labels ("cat ; dog"); answer: the question; generate: the raw
                                    prompt; caption: the language code (as --lang); ocr: none
              --lang CODE           output language of caption and answer (default: en)
              --max-new-tokens N    most tokens to generate per image (default: 64)
              --temperature T, --top-k K, --top-p P, --seed S
                                    sample instead of greedy decoding (seed default: 0)
              --vae NPZ             big_vision's vae-oid.npz, for segment masks (default: $PALIGEMMA_VAE)
              --output PATH         FILE.jsonl (one JSON object per image, in input order) or DIR.parquet
              --batch-size N        sequences decoding together in each executor (default: 8)
              --partitions N        input partitions (default: enough for every core, at most 1000 images each)
              --image-column NAME   table input: the column with image paths or bytes (default: content, image
                                    or path, whichever exists)
              -h, --help            this help

            Example:
              bin/paligemma-spark --master local[2] --model paligemma2-3b-mix-224 --input photos \\
                  --task detect --prompt "car ; person" --output boxes.jsonl
            """;

    private PaliGemmaSparkJob() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the job and returns its exit code (tests call this). */
    public static int run(String... args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        Arguments a;
        try {
            a = Arguments.parse(args);
        } catch (IllegalArgumentException e) {
            err.println(NAME + ": " + e.getMessage() + " (see '" + NAME + " --help')");
            return 2;
        }
        if (a == null) {
            out.print(HELP);
            return 0;
        }
        try {
            new PaliGemmaSparkJob().run(a, out, err);
            return 0;
        } catch (JobException | IOException | UncheckedIOException | IllegalArgumentException e) {
            err.println(NAME + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        } catch (RuntimeException e) {
            // Spark wraps what failed on an executor (a model it could not open, say) in layers of its own.
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            err.println(NAME + ": the job failed: " + (root.getMessage() == null ? root.toString() : root.getMessage()));
            if (System.getenv("PALIGEMMA_DEBUG") != null) e.printStackTrace(err);
            return 1;
        }
    }

    /** A failure the user can fix: printed as one line. */
    static final class JobException extends RuntimeException {
        JobException(String message) {
            super(message);
        }
    }

    private void run(Arguments a, PrintStream out, PrintStream err) throws IOException {
        if (a.output.toString().endsWith(".jsonl")) {
            Path folder = a.output.toAbsolutePath().getParent();
            if (folder != null && !Files.isDirectory(folder)) throw new JobException(a.output + ": folder " + folder + " does not exist");
            if (Files.isDirectory(a.output)) throw new JobException(a.output + ": is a folder; a .jsonl output is a file");
        }
        // Inside an application that already runs Spark (or a test), use its session and leave it running.
        boolean ownSession = SparkSession.getDefaultSession().isEmpty();
        SparkSession.Builder builder = SparkSession.builder().appName(NAME).config("spark.ui.showConsoleProgress", "false");
        if (a.master != null) builder.master(a.master);
        else if (System.getProperty("spark.master") == null) builder.master("local[*]");
        SparkSession spark = builder.getOrCreate();
        try {
            String master = spark.sparkContext().master();
            long loadStart = System.nanoTime();
            // Local mode: the driver is the executor, so opening the model here reports a bad model at once (and
            // the tasks then find it open).
            if (master.startsWith("local")) {
                ExecutorModels.model(a.transform.model());
                ExecutorModels.maskDecoder(a.transform.maskDecoder());
            }
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            Input input = readInput(spark, a);
            ImageMetrics metrics = ImageMetrics.register(spark.sparkContext());
            long t0 = System.nanoTime();
            Dataset<Row> results = input.transform.transform(input.rows, metrics);
            List<String> keep = new ArrayList<>(List.of("image", ResultColumns.TEXT));
            if (input.transform.hasObjects()) keep.add(ResultColumns.OBJECTS);
            keep.add(ResultColumns.ERROR);
            results = results.select(keep.stream().map(functions::col).toArray(org.apache.spark.sql.Column[]::new));
            long images = a.output.toString().endsWith(".jsonl") ? writeJsonLines(results, a.output) : writeParquet(results, a.output);
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.printf(Locale.ROOT, "%s: %d images, %d failed, %d tokens in %.1f s: %.1f images/min (%s, batch %d, model loaded in %.1f s) -> %s%n",
                    NAME, images, metrics.failures().value(), metrics.tokens().value(), seconds, images / seconds * 60,
                    master, a.transform.batchSize(), loadSeconds, a.output);
        } finally {
            if (ownSession) spark.stop();
        }
    }

    private record Input(Dataset<Row> rows, PaliGemmaTransform transform) {}

    /** A table as it is; files as a one-column table of their paths, in sorted order, spread over the partitions. */
    private static Input readInput(SparkSession spark, Arguments a) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(a.input);
        FileSystem fs = path.getFileSystem(conf);
        boolean glob = a.input.matches(".*[*?\\[{].*");
        if (!glob && isTable(fs, path)) {
            Dataset<Row> table = spark.read().parquet(a.input);
            StructType schema = table.schema();
            Set<String> names = Set.of(schema.fieldNames());
            String column = a.imageColumn;
            if (column == null) {
                column = names.contains("content") ? "content" : names.contains("image") ? "image" : names.contains("path") ? "path" : null;
                if (column == null) throw new JobException(a.input + ": no image column (content, image or path) in " + Arrays.toString(schema.fieldNames()) + "; pass --image-column");
            }
            if (!names.contains(column)) throw new JobException(a.input + ": no column '" + column + "' in " + Arrays.toString(schema.fieldNames()));
            boolean binary = schema.apply(column).dataType() instanceof BinaryType;
            if (!binary && !(schema.apply(column).dataType() instanceof StringType)) {
                throw new JobException(a.input + ": column '" + column + "' is " + schema.apply(column).dataType().simpleString()
                        + "; the image column must hold paths (string) or image bytes (binary)");
            }
            // Only what the job needs: the image, and a name for it (the binaryFile source's path, or the path itself).
            String pathColumn = binary && names.contains("path") && schema.apply("path").dataType() instanceof StringType ? "path" : null;
            Dataset<Row> rows = table.select(functions.col(column).as("image_source"),
                    binary ? (pathColumn == null ? functions.lit(null).cast(DataTypes.StringType) : functions.col(pathColumn)).as("image")
                            : functions.col(column).as("image"));
            return new Input(rows, a.transform.withImageColumn("image_source").withNameColumn("image"));
        }
        List<String> files = new ArrayList<>();
        if (glob) {
            FileStatus[] matches = fs.globStatus(path);
            if (matches != null) for (FileStatus s : matches) addFiles(fs, s, files);
        } else {
            if (!fs.exists(path)) throw new JobException(a.input + ": no such file or folder");
            addFiles(fs, fs.getFileStatus(path), files);
        }
        if (files.isEmpty()) throw new JobException(a.input + ": no image files found");
        files.sort(null);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = a.partitions != null ? a.partitions
                : (int) Math.min(files.size(), Math.max(jsc.defaultParallelism(), (files.size() + 999) / 1000));
        List<Row> rows = files.stream().map(RowFactory::create).toList();
        Dataset<Row> table = spark.createDataFrame(jsc.parallelize(rows, partitions),
                DataTypes.createStructType(List.of(DataTypes.createStructField("image", DataTypes.StringType, false))));
        return new Input(table, a.transform.withImageColumn("image"));
    }

    /** A Parquet file, or a folder that holds a Spark table (a _SUCCESS marker or .parquet files). */
    private static boolean isTable(FileSystem fs, org.apache.hadoop.fs.Path path) throws IOException {
        if (!fs.exists(path)) return false;
        if (path.getName().endsWith(".parquet")) return true;
        if (!fs.getFileStatus(path).isDirectory()) return false;
        if (fs.exists(new org.apache.hadoop.fs.Path(path, "_SUCCESS"))) return true;
        for (FileStatus s : fs.listStatus(path)) if (s.isFile() && s.getPath().getName().endsWith(".parquet")) return true;
        return false;
    }

    /** A file itself, or a folder's files (not recursive); names starting with '.' or '_' are skipped, as Hadoop does. */
    private static void addFiles(FileSystem fs, FileStatus s, List<String> files) throws IOException {
        if (s.isDirectory()) {
            for (FileStatus child : fs.listStatus(s.getPath())) if (child.isFile() && !hidden(child)) files.add(location(child));
        } else if (!hidden(s)) {
            files.add(location(s));
        }
    }

    private static boolean hidden(FileStatus s) {
        String n = s.getPath().getName();
        return n.startsWith(".") || n.startsWith("_");
    }

    /** A local file as its plain absolute path; anything else as its URI. */
    private static String location(FileStatus s) {
        var uri = s.getPath().toUri();
        return "file".equals(uri.getScheme()) ? uri.getPath() : uri.toString();
    }

    /** Computes every row (in parallel, kept in Spark's cache), then writes them in order from the driver. */
    private static long writeJsonLines(Dataset<Row> results, Path output) throws IOException {
        Dataset<Row> cached = results.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long n = cached.count();
            Path partial = output.resolveSibling(output.getFileName() + ".partial");
            try (BufferedWriter w = Files.newBufferedWriter(partial, StandardCharsets.UTF_8)) {
                for (Iterator<Row> it = cached.toLocalIterator(); it.hasNext(); ) {
                    w.write(JsonLines.line(it.next()));
                    w.write('\n');
                }
            }
            Files.move(partial, output, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return n;
        } finally {
            cached.unpersist();
        }
    }

    /** Writes the folder, replacing an earlier Spark output there but never another folder. */
    private static long writeParquet(Dataset<Row> results, Path output) throws IOException {
        if (Files.isDirectory(output)) {
            boolean sparkOutput = Files.exists(output.resolve("_SUCCESS"));
            try (var list = Files.list(output)) {
                if (!sparkOutput && list.findAny().isPresent()) {
                    throw new JobException(output + ": exists and is not an earlier output (no _SUCCESS); choose a new folder");
                }
            }
        } else if (Files.exists(output)) {
            throw new JobException(output + ": exists and is not a folder");
        }
        Dataset<Row> cached = results.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long n = cached.count();
            cached.write().mode(SaveMode.Overwrite).parquet(output.toString());
            return n;
        } finally {
            cached.unpersist();
        }
    }

    /** The command line, checked before Spark starts. */
    static final class Arguments {
        String master;
        String input;
        Path output;
        Integer partitions;
        String imageColumn;
        PaliGemmaTransform transform;

        /** The arguments, or null for --help. */
        static Arguments parse(String[] args) {
            Map<String, String> v = new LinkedHashMap<>();
            Set<String> known = Set.of("--master", "--model", "--input", "--task", "--prompt", "--lang", "--max-new-tokens",
                    "--temperature", "--top-k", "--top-p", "--seed", "--vae", "--output", "--batch-size", "--partitions", "--image-column");
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (arg.equals("-h") || arg.equals("--help")) return null;
                String name = arg, value = null;
                int eq = arg.indexOf('=');
                if (arg.startsWith("--") && eq > 0) {
                    name = arg.substring(0, eq);
                    value = arg.substring(eq + 1);
                }
                if (!known.contains(name)) throw new IllegalArgumentException("unknown option '" + arg + "'");
                if (value == null) {
                    if (i + 1 >= args.length) throw new IllegalArgumentException(name + " needs a value");
                    value = args[++i];
                }
                if (v.put(name, value) != null) throw new IllegalArgumentException(name + " given twice");
            }
            Arguments a = new Arguments();
            a.master = v.get("--master");
            String model = v.getOrDefault("--model", System.getenv("PALIGEMMA_MODEL"));
            if (model == null || model.isBlank()) throw new IllegalArgumentException("no model: pass --model DIR or set PALIGEMMA_MODEL");
            a.input = required(v, "--input");
            String output = required(v, "--output");
            if (!output.endsWith(".jsonl") && !output.endsWith(".parquet")) {
                throw new IllegalArgumentException("--output must be a FILE.jsonl or a DIR.parquet, got '" + output + "'");
            }
            a.output = Path.of(output);
            ImageTask task = ImageTask.parse(required(v, "--task"));
            String vae = v.getOrDefault("--vae", task == ImageTask.SEGMENT ? System.getenv("PALIGEMMA_VAE") : null);
            if (vae != null && vae.isBlank()) vae = null;
            a.partitions = v.containsKey("--partitions") ? positive(v, "--partitions") : null;
            a.imageColumn = v.get("--image-column");
            try {
                PaliGemmaTransform t = PaliGemmaTransform.forModel(model).withTask(task).withPrompt(v.get("--prompt"))
                        .withLanguage(v.getOrDefault("--lang", "en"))
                        .withMaxNewTokens(v.containsKey("--max-new-tokens") ? positive(v, "--max-new-tokens") : 64)
                        .withBatchSize(v.containsKey("--batch-size") ? positive(v, "--batch-size") : 8)
                        .withSampling(number(v, "--temperature"), v.containsKey("--top-k") ? integer(v, "--top-k") : null,
                                number(v, "--top-p"), v.containsKey("--seed") ? Long.parseLong(v.get("--seed")) : 0)
                        .withMaskDecoder(vae);
                task.prompt(t.prompt(), t.language());
                a.transform = t;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--seed must be an integer, got '" + v.get("--seed") + "'");
            }
            return a;
        }

        private static String required(Map<String, String> v, String name) {
            String s = v.get(name);
            if (s == null || s.isBlank()) throw new IllegalArgumentException("missing " + name);
            return s;
        }

        private static int integer(Map<String, String> v, String name) {
            try {
                return Integer.parseInt(v.get(name).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be an integer, got '" + v.get(name) + "'");
            }
        }

        private static int positive(Map<String, String> v, String name) {
            int n = integer(v, name);
            if (n < 1) throw new IllegalArgumentException(name + " must be positive, got " + n);
            return n;
        }

        private static Double number(Map<String, String> v, String name) {
            if (!v.containsKey(name)) return null;
            try {
                return Double.parseDouble(v.get(name).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be a number, got '" + v.get(name) + "'");
            }
        }
    }
}
