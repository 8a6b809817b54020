package org.paligemma4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.tensor.WeightFormat;

/**
 * Opens a model for a command. Mapping and binding a multi-gigabyte checkpoint takes seconds, so for large
 * weights (or with --verbose) a progress line on stderr says what is loading and, on a terminal, how long it
 * has taken so far; the tiny test models load silently.
 */
final class ModelLoading {
    /** Weights from this size on count as large enough to announce. */
    static final long ANNOUNCE_BYTES = 200L << 20;

    private ModelLoading() {}

    static PaliGemma open(Path dir, boolean verbose) throws IOException {
        return open(ModelSource.of(dir), null, verbose, WeightFormat.AS_STORED);
    }

    static PaliGemma open(Path dir, boolean verbose, WeightFormat format) throws IOException {
        return open(ModelSource.of(dir), null, verbose, format);
    }

    /** Opens the model with a LoRA adapter applied (null for none). */
    static PaliGemma open(Path dir, Path adapter, boolean verbose) throws IOException {
        return open(ModelSource.of(dir), adapter, verbose, WeightFormat.AS_STORED);
    }

    /** Opens the model in {@code format} with a LoRA adapter applied (null for none). */
    static PaliGemma open(Path dir, Path adapter, boolean verbose, WeightFormat format) throws IOException {
        return open(ModelSource.of(dir), adapter, verbose, format);
    }

    static PaliGemma open(ModelSource source, boolean verbose) throws IOException {
        return open(source, null, verbose, WeightFormat.AS_STORED);
    }

    /** Opens the model of {@code source} in {@code format} with a LoRA adapter applied (null for none). */
    static PaliGemma open(ModelSource source, Path adapter, boolean verbose, WeightFormat format) throws IOException {
        Path dir = source.path();
        long bytes = weightBytes(dir);
        if (!verbose && bytes < ANNOUNCE_BYTES) return PaliGemma.open(source, format, adapter);
        PrintStream err = System.err;
        String what = String.format(Locale.ROOT, bytes >= 1e9 ? "loading %s (%.1f GB of weights)" : "loading %s (%.0f MB of weights)",
                dir, bytes >= 1e9 ? bytes / 1e9 : bytes / 1e6);
        boolean terminal = System.console() != null && System.console().isTerminal();
        err.print(what + " …" + (terminal ? "" : "\n"));
        err.flush();
        long t0 = System.nanoTime();
        Thread ticker = terminal ? Thread.ofPlatform().daemon().start(() -> tick(err, what, t0)) : null;
        boolean loaded = false;
        try {
            PaliGemma model = PaliGemma.open(source, format, adapter);
            loaded = true;
            return model;
        } finally {
            if (ticker != null) {
                ticker.interrupt();
                try {
                    ticker.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            // On failure only end the progress line: the command prints the error on its own line.
            if (loaded) err.printf(Locale.ROOT, "%sloaded in %.1f s%n", terminal ? "\r" + what + " … " : "", seconds(t0));
            else if (terminal) err.println();
        }
    }

    /** Rewrites the progress line every second until interrupted. */
    private static void tick(PrintStream err, String what, long t0) {
        try {
            while (true) {
                Thread.sleep(1000);
                err.printf(Locale.ROOT, "\r%s … %.0f s", what, seconds(t0));
                err.flush();
            }
        } catch (InterruptedException done) {
            // loading finished
        }
    }

    /** Total size of the safetensors files (or of the .npz), 0 when they cannot be listed (open will say why). */
    static long weightBytes(Path dir) {
        if (Files.isRegularFile(dir)) {
            try {
                return Files.size(dir);
            } catch (IOException e) {
                return 0;
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            return 0;
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
