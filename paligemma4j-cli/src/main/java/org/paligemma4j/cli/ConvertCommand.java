package org.paligemma4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.paligemma4j.io.CheckpointConversion;
import org.paligemma4j.io.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Copy a Hugging Face model directory with its floating-point weights stored as bf16, f16 or f32",
                "(e.g. a trained float32 model as bf16, at half the size). Names, shapes and every other file are kept;",
                "values are rounded to nearest, ties to even, as PyTorch's tensor.to(dtype)."})
final class ConvertCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Source model directory.")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (created if needed).")
    Path out;

    @Option(names = "--dtype", required = true, paramLabel = "bf16|f16|f32", description = "Element type of the copy's weights.")
    String dtype;

    @Override
    public Integer call() throws Exception {
        DType target = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "bf16", "bfloat16" -> DType.BF16;
            case "f16", "fp16", "float16" -> DType.F16;
            case "f32", "fp32", "float32" -> DType.F32;
            default -> throw new CliException("--dtype: expected bf16, f16 or f32, got '" + dtype + "'");
        };
        if (!Files.isDirectory(model)) throw new CliException(model + ": no such model directory");
        long bytes;
        try {
            bytes = CheckpointConversion.convert(model, out, target);
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        System.out.printf(Locale.ROOT, "wrote %s: %s weights, %.2f MB%n", out, target.name().toLowerCase(Locale.ROOT), bytes / 1e6);
        return 0;
    }
}
