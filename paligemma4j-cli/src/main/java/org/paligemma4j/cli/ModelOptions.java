package org.paligemma4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.paligemma4j.io.BigVisionCheckpoint;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.model.SlidingWindowSemantics;
import org.paligemma4j.tensor.Parallel;
import picocli.CommandLine.Option;

/**
 * Options every command that runs the model shares: which model (and config/tokenizer overrides), how many threads,
 * which attention semantics.
 */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "DIR|NPZ",
            description = "Hugging Face PaliGemma model directory, a Hub id owner/name[@revision], or a big_vision .npz checkpoint "
                    + "(default: $PALIGEMMA_MODEL).")
    Path model;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Hugging Face config.json to use instead of the model's (an .npz's is otherwise inferred from its shapes).")
    Path config;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.model or tokenizer.json to use instead of the model's (needed with an .npz).")
    Path tokenizer;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all processors).")
    Integer threads;

    @Option(names = "--attention", paramLabel = "MODE", defaultValue = "transformers",
            description = "Gemma 2 sliding-window semantics for long prompts: transformers (default, current Hugging Face), "
                    + "transformers-4.49, or full (big_vision: no window).")
    String attention;

    /**
     * The model with --config and --tokenizer applied, checked to exist; what was inferred while loading (an .npz's
     * config) is printed on stderr. Applies --threads.
     */
    ModelSource source() {
        Path path = resolve();
        if (config != null && !Files.isRegularFile(config)) throw new CliException(config + ": no such config file");
        if (tokenizer != null && !Files.exists(tokenizer)) throw new CliException(tokenizer + ": no such tokenizer file");
        return ModelSource.of(path).withConfig(config).withTokenizer(tokenizer).withNotes(System.err::println);
    }

    /** The model directory or .npz file, checked to exist; applies --threads. */
    Path resolve() {
        Path dir = model;
        if (dir == null) {
            String env = System.getenv("PALIGEMMA_MODEL");
            if (env == null || env.isBlank()) throw new CliException("no model: pass --model DIR or set PALIGEMMA_MODEL");
            dir = Path.of(env);
        }
        dir = HubModels.resolveIfHubId(dir);
        if (BigVisionCheckpoint.isNpz(dir)) {
            if (!Files.isRegularFile(dir)) throw new CliException(dir + ": no such big_vision checkpoint file");
        } else {
            if (!Files.isDirectory(dir)) throw new CliException(dir + ": model directory does not exist");
            if (config == null && !Files.isRegularFile(dir.resolve("config.json"))) {
                throw new CliException(dir + ": no config.json (not a model directory?)");
            }
        }
        if (threads != null) {
            if (threads < 1) throw new CliException("--threads must be at least 1");
            Parallel.setThreads(threads);
        }
        return dir;
    }

    SlidingWindowSemantics semantics() {
        return switch (attention) {
            case "transformers" -> SlidingWindowSemantics.TRANSFORMERS;
            case "transformers-4.49" -> SlidingWindowSemantics.TRANSFORMERS_4_49;
            case "full" -> SlidingWindowSemantics.FULL;
            default -> throw new CliException("--attention must be transformers, transformers-4.49 or full, not '" + attention + "'");
        };
    }
}
