package org.paligemma4j.cli;

import java.nio.file.Path;
import org.paligemma4j.tensor.WeightFormat;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How the weights are used at inference: {@code --quant} (as stored, int8 or int4), {@code --adapter DIR} (PEFT LoRA) and
 * {@code --kv-cache} (the KV cache's precision).
 */
final class WeightOptions {
    @Option(names = "--adapter", paramLabel = "ADAPTER_DIR",
            description = "Apply a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) to the model.")
    Path adapter;

    @Option(names = "--quant", paramLabel = "none|q8|q4", defaultValue = "none",
            description = "Weight format: none (as stored), or q8/q4 (int8/int4, quantized while loading) (default: ${DEFAULT-VALUE}).")
    String quant;

    @Mixin
    KvCacheOption kvCache;

    /** The --quant format; a wrong name is a one-line error. */
    WeightFormat format() {
        try {
            return WeightFormat.parse(quant);
        } catch (IllegalArgumentException e) {
            throw new CliException("--quant: " + e.getMessage());
        }
    }
}
