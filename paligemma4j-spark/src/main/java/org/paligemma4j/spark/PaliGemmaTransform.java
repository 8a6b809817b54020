package org.paligemma4j.spark;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import org.paligemma4j.generate.GenerationOptions;

/**
 * PaliGemma over a Spark {@code Dataset<Row>}: each row's image (a path string, or image bytes such as the
 * {@code content} column of Spark's {@code binaryFile} source) goes through the model, and the result comes back
 * as new columns: {@code text}, for detect/segment {@code objects} (see {@link ResultColumns}), and {@code error}.
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("binaryFile").option("pathGlobFilter", "*.jpg").load("/data/photos");
 * Dataset<Row> boxes = PaliGemmaTransform.forModel("/models/paligemma2-3b-mix-224")
 *         .withTask(ImageTask.DETECT).withPrompt("car ; person")
 *         .withImageColumn("content")
 *         .transform(images);
 * }</pre>
 *
 * <p>Each executor JVM opens the model once ({@link ExecutorModels}: shared by every task of the JVM, weights
 * memory-mapped, closed at JVM exit) and runs each partition through one continuous-batching engine, so the rows
 * of all partitions running in that JVM decode together. A row that cannot run (missing or undecodable image, a
 * prompt too long) gets a message in {@code error} and null results; it never fails the job. Rows come back in
 * their input order.
 *
 * <p>The task and prompt apply to every row, unless {@link #withTaskColumn} / {@link #withPromptColumn} name
 * columns that hold a row's own (a null cell falls back to the job's). Generation is greedy unless a temperature,
 * top-k or top-p asks for sampling, as on the command line. Immutable and serializable: the {@code withX}
 * methods return modified copies.
 *
 * @param model         a model directory as the executors see it (shared storage, or relative to the folder
 *                      where {@code --files}/{@code --archives} put files), or a Hugging Face Hub id
 *                      {@code owner/name[@revision]} downloaded into each node's Hugging Face cache
 * @param task          the task for every row without its own
 * @param prompt        the task's argument (labels, question, raw prompt, caption language); may be null
 * @param language      the output language of caption and answer
 * @param maxNewTokens  at most this many generated tokens per row
 * @param temperature   sampling temperature, or null
 * @param topK          sample among the k most likely tokens, or null
 * @param topP          sample among the most likely tokens reaching probability p, or null
 * @param seed          the sampling seed (every row uses it, as separate command-line runs would)
 * @param batchSize     sequences that decode together in one executor JVM
 * @param maskDecoder   big_vision's {@code vae-oid.npz} as the executors see it (segment masks), or null
 * @param imageColumn   the column holding each row's image path or bytes
 * @param nameColumn    a string column naming each row in error messages (e.g. {@code path}), or null
 * @param taskColumn    a string column with a row's own task, or null
 * @param promptColumn  a string column with a row's own prompt, or null
 */
public record PaliGemmaTransform(String model, ImageTask task, String prompt, String language, int maxNewTokens,
                                 Double temperature, Integer topK, Double topP, long seed, int batchSize,
                                 String maskDecoder, String imageColumn, String nameColumn, String taskColumn,
                                 String promptColumn) implements Serializable {

    public PaliGemmaTransform {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(language, "language");
        Objects.requireNonNull(imageColumn, "imageColumn");
        if (maxNewTokens <= 0) throw new IllegalArgumentException("max new tokens must be positive, got " + maxNewTokens);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        options(maxNewTokens, temperature, topK, topP, seed); // checks the sampling values now, on the driver
    }

    /** Captions in English, 64 new tokens at most, batches of 8, images from a column named {@code image}. */
    public static PaliGemmaTransform forModel(String model) {
        return new PaliGemmaTransform(model, ImageTask.CAPTION, null, "en", 64, null, null, null, 0, 8, null,
                "image", null, null, null);
    }

    public PaliGemmaTransform withTask(ImageTask t) {
        return new PaliGemmaTransform(model, t, prompt, language, maxNewTokens, temperature, topK, topP, seed, batchSize,
                maskDecoder, imageColumn, nameColumn, taskColumn, promptColumn);
    }

    public PaliGemmaTransform withPrompt(String p) {
        return new PaliGemmaTransform(model, task, p, language, maxNewTokens, temperature, topK, topP, seed, batchSize,
                maskDecoder, imageColumn, nameColumn, taskColumn, promptColumn);
    }

    public PaliGemmaTransform withLanguage(String l) {
        return new PaliGemmaTransform(model, task, prompt, l, maxNewTokens, temperature, topK, topP, seed, batchSize,
                maskDecoder, imageColumn, nameColumn, taskColumn, promptColumn);
    }

    public PaliGemmaTransform withMaxNewTokens(int n) {
        return new PaliGemmaTransform(model, task, prompt, language, n, temperature, topK, topP, seed, batchSize,
                maskDecoder, imageColumn, nameColumn, taskColumn, promptColumn);
    }

    /** Sampling (any of the three may be null: temperature 1, no top-k, no top-p), with {@code s} as the seed. */
    public PaliGemmaTransform withSampling(Double t, Integer k, Double p, long s) {
        return new PaliGemmaTransform(model, task, prompt, language, maxNewTokens, t, k, p, s, batchSize,
                maskDecoder, imageColumn, nameColumn, taskColumn, promptColumn);
    }

    public PaliGemmaTransform withBatchSize(int n) {
        return new PaliGemmaTransform(model, task, prompt, language, maxNewTokens, temperature, topK, topP, seed, n,
                maskDecoder, imageColumn, nameColumn, taskColumn, promptColumn);
    }

    public PaliGemmaTransform withMaskDecoder(String vaeNpz) {
        return new PaliGemmaTransform(model, task, prompt, language, maxNewTokens, temperature, topK, topP, seed, batchSize,
                vaeNpz, imageColumn, nameColumn, taskColumn, promptColumn);
    }

    public PaliGemmaTransform withImageColumn(String c) {
        return new PaliGemmaTransform(model, task, prompt, language, maxNewTokens, temperature, topK, topP, seed, batchSize,
                maskDecoder, c, nameColumn, taskColumn, promptColumn);
    }

    public PaliGemmaTransform withNameColumn(String c) {
        return new PaliGemmaTransform(model, task, prompt, language, maxNewTokens, temperature, topK, topP, seed, batchSize,
                maskDecoder, imageColumn, c, taskColumn, promptColumn);
    }

    public PaliGemmaTransform withTaskColumn(String c) {
        return new PaliGemmaTransform(model, task, prompt, language, maxNewTokens, temperature, topK, topP, seed, batchSize,
                maskDecoder, imageColumn, nameColumn, c, promptColumn);
    }

    public PaliGemmaTransform withPromptColumn(String c) {
        return new PaliGemmaTransform(model, task, prompt, language, maxNewTokens, temperature, topK, topP, seed, batchSize,
                maskDecoder, imageColumn, nameColumn, taskColumn, c);
    }

    /** The generation options of every row: the command line's, from the same values. */
    public GenerationOptions generationOptions() {
        return options(maxNewTokens, temperature, topK, topP, seed);
    }

    private static GenerationOptions options(int maxNewTokens, Double temperature, Integer topK, Double topP, long seed) {
        GenerationOptions o = GenerationOptions.defaults().withMaxNewTokens(maxNewTokens);
        if (temperature == null && topK == null && topP == null) return o;
        return o.withSampling(temperature == null ? 1.0 : temperature, topK == null ? 0 : topK, topP == null ? 1.0 : topP, seed);
    }

    /** Whether the output has an {@code objects} column: detect or segment for every row, or tasks per row. */
    public boolean hasObjects() {
        return task.findsObjects() || taskColumn != null;
    }

    /** Whether objects may carry masks ({@code mask_rle}). */
    public boolean hasMasks() {
        return task == ImageTask.SEGMENT || taskColumn != null;
    }

    /** The input columns and the result columns {@link #transform} adds. */
    public StructType outputSchema(StructType input) {
        return ResultColumns.append(input, hasObjects(), hasMasks());
    }

    /** Runs every row through the model, counting into new accumulators (see {@link #transform(Dataset, ImageMetrics)}). */
    public Dataset<Row> transform(Dataset<Row> input) {
        return transform(input, ImageMetrics.register(input.sparkSession().sparkContext()));
    }

    /**
     * The input with the result columns added. Lazy, as every Spark transformation: the model runs when an action
     * needs the rows; {@code metrics} count images, generated tokens and failed rows as they run (a partition
     * computed twice counts twice).
     *
     * @throws IllegalArgumentException when a named column is missing or has the wrong type, or the job's task and
     *                                  prompt cannot make a prompt
     */
    public Dataset<Row> transform(Dataset<Row> input, ImageMetrics metrics) {
        StructType schema = input.schema();
        DataType imageType = column(schema, imageColumn, "image").dataType();
        if (!(imageType instanceof StringType) && !(imageType instanceof BinaryType)) {
            throw new IllegalArgumentException("image column '" + imageColumn + "' is " + imageType.simpleString()
                    + ": it must hold a path (string) or the image file's bytes (binary)");
        }
        for (String[] c : new String[][] {{nameColumn, "name"}, {taskColumn, "task"}, {promptColumn, "prompt"}}) {
            if (c[0] != null && !(column(schema, c[0], c[1]).dataType() instanceof StringType)) {
                throw new IllegalArgumentException(c[1] + " column '" + c[0] + "' must be a string column");
            }
        }
        for (String added : new String[] {ResultColumns.TEXT, ResultColumns.OBJECTS, ResultColumns.ERROR}) {
            for (String existing : schema.fieldNames()) {
                if (existing.equalsIgnoreCase(added)) {
                    throw new IllegalArgumentException("the dataset already has a column '" + existing + "', which the results would"
                            + " duplicate: rename or drop it first");
                }
            }
        }
        if (taskColumn == null && promptColumn == null) task.prompt(prompt, language); // a bad job prompt fails here, once
        return input.mapPartitions(new PartitionRunner.Function(this, schema, metrics), Encoders.row(outputSchema(schema)));
    }

    private static org.apache.spark.sql.types.StructField column(StructType schema, String name, String role) {
        for (var f : schema.fields()) if (f.name().equals(name)) return f;
        throw new IllegalArgumentException("no " + role + " column '" + name + "': the dataset has " + Arrays.toString(schema.fieldNames()));
    }
}
