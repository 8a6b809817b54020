package org.paligemma4j.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkFiles;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.engine.Engine;
import org.paligemma4j.engine.EngineOptions;
import org.paligemma4j.tasks.MaskDecoder;

/**
 * The models of this JVM (a Spark executor, or the driver in local mode): each opened once, when the first
 * partition needs it, and shared by every task that runs here, so an executor holds one copy of the weights
 * however many cores it has (they are memory-mapped: executors on one host share the page cache too). Each
 * model gets one engine per batch size, so the partitions running side by side decode in the same batches.
 * Everything is closed when the JVM exits.
 */
final class ExecutorModels {
    private static final Map<String, PaliGemma> MODELS = new HashMap<>();
    private static final Map<String, Engine> ENGINES = new HashMap<>();
    private static final Map<String, MaskDecoder> MASK_DECODERS = new HashMap<>();
    private static boolean hookInstalled;

    private ExecutorModels() {}

    /** The engine for {@code t}'s model and batch size, opening the model first if this JVM has not yet. */
    static synchronized Engine engine(PaliGemmaTransform t) throws IOException {
        String key = t.model() + "\u0000" + t.batchSize();
        Engine e = ENGINES.get(key);
        if (e == null) {
            PaliGemma model = model(t.model());
            // A short queue: waiting requests hold decoded images, and the partitions refill it as it drains.
            e = Engine.start(model, EngineOptions.defaults().withMaxBatch(t.batchSize()).withMaxQueue(t.batchSize()));
            ENGINES.put(key, e);
        }
        return e;
    }

    /** The opened model at {@code location} (see {@link #resolve}). */
    static synchronized PaliGemma model(String location) throws IOException {
        PaliGemma m = MODELS.get(location);
        if (m == null) {
            installHook();
            Path dir = resolve(location);
            m = dir != null ? PaliGemma.open(dir) : PaliGemma.open(location);
            MODELS.put(location, m);
        }
        return m;
    }

    /** big_vision's mask VQ-VAE at {@code location}, loaded once; null for null. */
    static synchronized MaskDecoder maskDecoder(String location) throws IOException {
        if (location == null) return null;
        MaskDecoder d = MASK_DECODERS.get(location);
        if (d == null) {
            Path file = resolve(location);
            d = MaskDecoder.load(file != null ? file : Path.of(location));
            MASK_DECODERS.put(location, d);
        }
        return d;
    }

    /**
     * Where a location names something on this machine: the path itself (a {@code file:} URI's path), or, for a
     * relative path that is not here, the same name in the folder where Spark put the job's {@code --files};
     * null when neither exists (then the location may be a Hub id).
     */
    static Path resolve(String location) {
        Path p;
        try {
            p = location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (Files.exists(p)) return p;
        if (!p.isAbsolute()) {
            try {
                Path shipped = Path.of(SparkFiles.getRootDirectory()).resolve(p);
                if (Files.exists(shipped)) return shipped;
            } catch (RuntimeException noSparkEnv) {
                // not inside Spark: nothing was shipped
            }
        }
        return null;
    }

    private static void installHook() {
        if (hookInstalled) return;
        hookInstalled = true;
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("paligemma-close").unstarted(ExecutorModels::closeAll));
    }

    /** Ends the engines, then unmaps the models. */
    static synchronized void closeAll() {
        List<Engine> engines = new ArrayList<>(ENGINES.values());
        ENGINES.clear();
        for (Engine e : engines) e.close();
        for (PaliGemma m : MODELS.values()) m.close();
        MODELS.clear();
        MASK_DECODERS.clear();
    }

    /** For callers that cannot throw checked exceptions. */
    static Engine engineUnchecked(PaliGemmaTransform t) {
        try {
            return engine(t);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
