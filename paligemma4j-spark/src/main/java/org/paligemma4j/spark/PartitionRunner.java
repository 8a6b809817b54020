package org.paligemma4j.spark;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.StructType;
import org.paligemma4j.engine.Engine;
import org.paligemma4j.engine.Generation;
import org.paligemma4j.engine.GenerationRequest;
import org.paligemma4j.engine.QueueFullException;
import org.paligemma4j.generate.FinishReason;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.tasks.MaskPaster;
import org.paligemma4j.tasks.Segment;

/**
 * One partition through the executor's engine: rows are read and submitted ahead of the one being returned (up
 * to a window of twice the batch size, waiting whenever the engine's queue is full), so the engine always has work
 * while the rows come back one by one, in their input order. A row that cannot run becomes a row with an error.
 */
final class PartitionRunner implements Iterator<Row> {

    /** The function Spark ships to the executors: the settings, the input's layout and the accumulators. */
    static final class Function implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final PaliGemmaTransform settings;
        private final int imageIndex, nameIndex, taskIndex, promptIndex, width;
        private final boolean binary;
        private final ImageMetrics metrics;

        Function(PaliGemmaTransform settings, StructType schema, ImageMetrics metrics) {
            this.settings = settings;
            this.imageIndex = schema.fieldIndex(settings.imageColumn());
            this.binary = schema.fields()[imageIndex].dataType() instanceof BinaryType;
            this.nameIndex = settings.nameColumn() == null ? (binary && has(schema, "path") ? schema.fieldIndex("path") : -1)
                    : schema.fieldIndex(settings.nameColumn());
            this.taskIndex = settings.taskColumn() == null ? -1 : schema.fieldIndex(settings.taskColumn());
            this.promptIndex = settings.promptColumn() == null ? -1 : schema.fieldIndex(settings.promptColumn());
            this.width = schema.size();
            this.metrics = metrics;
        }

        private static boolean has(StructType schema, String name) {
            for (String n : schema.fieldNames()) if (n.equals(name)) return true;
            return false;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws IOException {
            if (!rows.hasNext()) return rows;
            PartitionRunner runner = new PartitionRunner(this, rows, ExecutorModels.engine(settings),
                    ExecutorModels.maskDecoder(settings.maskDecoder()));
            TaskContext context = TaskContext.get();
            if (context != null) context.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) c -> runner.cancelAll());
            return runner;
        }
    }

    private final Function f;
    private final Iterator<Row> input;
    private final Engine engine;
    private final MaskDecoder maskDecoder;
    private final GenerationOptions options;
    private final Deque<Pending> window = new ArrayDeque<>();
    private final int windowSize;
    private long rowNumber;

    /** A row on its way: the generation, or the reason it cannot run. */
    private record Pending(Row row, String name, ImageTask task, Generation generation, int width, int height, String error) {
        static Pending failed(Row row, String name, String error) {
            return new Pending(row, name, null, null, 0, 0, error);
        }
    }

    private PartitionRunner(Function f, Iterator<Row> input, Engine engine, MaskDecoder maskDecoder) {
        this.f = f;
        this.input = input;
        this.engine = engine;
        this.maskDecoder = maskDecoder;
        this.options = f.settings.generationOptions();
        this.windowSize = 2 * f.settings.batchSize();
    }

    @Override
    public boolean hasNext() {
        fill();
        return !window.isEmpty();
    }

    @Override
    public Row next() {
        fill();
        Pending head = window.pollFirst();
        if (head == null) throw new NoSuchElementException();
        return finish(head);
    }

    private void fill() {
        while (window.size() < windowSize && input.hasNext()) window.addLast(start(input.next()));
    }

    /** Ends what is still queued or decoding (the task was killed or failed): frees the engine's slots. */
    void cancelAll() {
        for (Pending p : window) if (p.generation() != null) p.generation().cancel();
    }

    private Pending start(Row row) {
        long number = rowNumber++;
        String name = nameOf(row, number);
        ImageTask task;
        String prompt;
        try {
            task = f.taskIndex >= 0 && !row.isNullAt(f.taskIndex) ? ImageTask.parse(row.getString(f.taskIndex)) : f.settings.task();
            String argument = f.promptIndex >= 0 && !row.isNullAt(f.promptIndex) ? row.getString(f.promptIndex) : f.settings.prompt();
            prompt = task.prompt(argument, f.settings.language());
        } catch (IllegalArgumentException e) {
            return Pending.failed(row, name, name + ": " + e.getMessage());
        }
        RgbImage image;
        try {
            image = readImage(row, name);
        } catch (IOException | RuntimeException e) {
            return Pending.failed(row, name, describe(e, name));
        }
        try {
            Generation g = submit(GenerationRequest.of(image, prompt, options));
            return new Pending(row, name, task, g, image.width(), image.height(), null);
        } catch (IllegalArgumentException e) {
            return Pending.failed(row, name, name + ": " + e.getMessage());
        }
    }

    /** Submits, waiting while the engine's queue is full (for a row of this partition to end, or briefly). */
    private Generation submit(GenerationRequest request) {
        while (true) {
            try {
                return engine.submit(request, null);
            } catch (QueueFullException full) {
                waitForProgress();
            }
        }
    }

    private void waitForProgress() {
        List<CompletableFuture<?>> running = new ArrayList<>();
        for (Pending p : window) if (p.generation() != null && !p.generation().result().isDone()) running.add(p.generation().result());
        try {
            if (running.isEmpty()) {
                Thread.sleep(5); // other partitions filled the queue
            } else {
                CompletableFuture.anyOf(running.toArray(CompletableFuture[]::new)).get(50, TimeUnit.MILLISECONDS);
            }
        } catch (TimeoutException | ExecutionException ignored) {
            // try again; a failed row reports its failure when it is returned
        } catch (InterruptedException e) {
            throw interrupted(e);
        }
    }

    private Row finish(Pending p) {
        if (p.error() != null) return failedRow(p.row(), p.error());
        GenerationResult result;
        try {
            result = p.generation().await();
        } catch (InterruptedException e) {
            throw interrupted(e);
        } catch (RuntimeException e) {
            return failedRow(p.row(), describe(e, p.name()));
        }
        if (result.finishReason() == FinishReason.SHUTDOWN || result.finishReason() == FinishReason.CANCELLED) {
            return failedRow(p.row(), p.name() + ": the model was shut down before the row finished");
        }
        List<Row> objects = null;
        if (p.task().findsObjects()) {
            objects = new ArrayList<>();
            boolean masks = p.task() == ImageTask.SEGMENT;
            for (Detection d : DetectionParser.detections(result.text(), p.width(), p.height())) {
                var mask = !masks || maskDecoder == null || !d.validSegment() ? null : MaskPaster.paste(maskDecoder.decode(d.segIndices()), d);
                objects.add(ResultColumns.objectRow(new Segment(d, mask), f.settings.hasMasks()));
            }
        }
        f.metrics.images().add(1);
        f.metrics.tokens().add(result.ids().length);
        return row(p.row(), result.text(), objects, null);
    }

    private Row failedRow(Row input, String error) {
        f.metrics.images().add(1);
        f.metrics.failures().add(1);
        return row(input, null, null, error);
    }

    private Row row(Row input, String text, List<Row> objects, String error) {
        boolean withObjects = f.settings.hasObjects();
        Object[] values = new Object[f.width + (withObjects ? 3 : 2)];
        for (int i = 0; i < f.width; i++) values[i] = input.get(i);
        int at = f.width;
        values[at++] = text;
        if (withObjects) values[at++] = objects == null ? null : ResultColumns.seq(objects);
        values[at] = error;
        return RowFactory.create(values);
    }

    private String nameOf(Row row, long number) {
        if (f.nameIndex >= 0 && !row.isNullAt(f.nameIndex)) return row.getString(f.nameIndex);
        if (!f.binary && !row.isNullAt(f.imageIndex)) return row.getString(f.imageIndex);
        TaskContext c = TaskContext.get();
        return "row " + number + (c == null ? "" : " of partition " + c.partitionId());
    }

    private RgbImage readImage(Row row, String name) throws IOException {
        if (row.isNullAt(f.imageIndex)) throw new IOException(name + ": no image (the image column is null)");
        if (f.binary) return ImageLoader.decode((byte[]) row.get(f.imageIndex), name, ImageLoader.DEFAULT_MAX_PIXELS);
        return readPath(row.getString(f.imageIndex));
    }

    /** A local path or {@code file:} URI through the JDK; other URIs ({@code hdfs:}, {@code s3a:}, …) through Hadoop. */
    static RgbImage readPath(String location) throws IOException {
        URI uri = location.matches("^[A-Za-z][A-Za-z0-9+.-]+:.*") ? URI.create(location) : null;
        if (uri == null) return ImageLoader.load(Path.of(location));
        if ("file".equals(uri.getScheme())) return ImageLoader.load(Path.of(uri));
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
        FileSystem fs = p.getFileSystem(new Configuration());
        long size = fs.getFileStatus(p).getLen();
        if (size > Integer.MAX_VALUE - 8) throw new IOException(location + ": the file has " + size + " bytes, more than an image may have here (2 GiB)");
        byte[] data;
        try (InputStream in = fs.open(p)) {
            data = in.readAllBytes();
        }
        return ImageLoader.decode(data, location, ImageLoader.DEFAULT_MAX_PIXELS);
    }

    /** The one-line error of a row, naming it (as the command line's messages do). */
    static String describe(Throwable e, String name) {
        String m = switch (e) {
            case NoSuchFileException n -> n.getFile() + ": no such file";
            case java.io.FileNotFoundException n -> name + ": no such file";
            case AccessDeniedException a -> a.getFile() + ": permission denied";
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
        return m.startsWith(name) ? m : name + ": " + m;
    }

    private RuntimeException interrupted(InterruptedException e) {
        cancelAll();
        Thread.currentThread().interrupt();
        return new IllegalStateException("interrupted while waiting for the model (the task was cancelled)", e);
    }
}
