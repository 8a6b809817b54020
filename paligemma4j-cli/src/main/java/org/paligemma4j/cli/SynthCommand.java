package org.paligemma4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.KnownModels;
import org.paligemma4j.io.SyntheticCheckpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write a random-weight checkpoint with the exact tensor names, shapes and dtype of a published model.",
                "Speed does not depend on weight values, so benchmarks run on these.",
                "Known models: paligemma-3b-pt-224/448/896, paligemma2-3b-pt-224/448/896, paligemma2-10b-pt-224/448, paligemma2-28b-pt-224."})
final class SynthCommand implements Callable<Integer> {

    @Option(names = "--like", required = true, paramLabel = "NAME|DIR",
            description = "A known model name, or a model directory whose config files to copy.")
    String like;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (created if needed).")
    Path out;

    @Option(names = "--dtype", paramLabel = "bf16|f32|f16",
            description = "Stored dtype (default: what the model was published in: f32 for PaliGemma 1, bf16 for PaliGemma 2).")
    String dtype;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--shard-size", paramLabel = "BYTES", description = "Largest shard, e.g. 5GB (default, as published), 2GiB, 500MB.")
    String shardSize;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "A tokenizer.model to copy into the checkpoint.")
    Path tokenizer;

    @Override
    public Integer call() throws Exception {
        DType type = null;
        if (dtype != null) {
            type = switch (dtype.toLowerCase(Locale.ROOT)) {
                case "bf16", "bfloat16" -> DType.BF16;
                case "f32", "float32" -> DType.F32;
                case "f16", "float16" -> DType.F16;
                default -> throw new CliException("--dtype must be bf16, f32 or f16, not '" + dtype + "'");
            };
        }
        if (!KnownModels.isKnown(like) && !java.nio.file.Files.isRegularFile(Path.of(like).resolve("config.json"))) {
            throw new CliException("--like '" + like + "' is neither a known model (" + String.join(", ", KnownModels.names())
                    + ") nor a directory with a config.json");
        }
        long shard = shardSize == null ? SyntheticCheckpoint.DEFAULT_SHARD_BYTES : Sizes.parseBytes("--shard-size", shardSize);
        long start = System.nanoTime();
        var result = SyntheticCheckpoint.write(new SyntheticCheckpoint.Options(like, out, type, seed, shard, tokenizer),
                (written, total) -> System.err.printf(Locale.ROOT, "\rsynth: %.2f / %.2f GB", written / 1e9, total / 1e9));
        System.err.println();
        System.out.printf(Locale.ROOT, "wrote %s: %d tensors, %.3f GB in %d file(s), %.1f s%n", result.directory(),
                result.tensors(), result.tensorBytes() / 1e9, result.files().size(), (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
