package org.paligemma4j.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --adapter DIR}: a PEFT LoRA adapter applied at inference. */
final class AdapterOption {
    @Option(names = "--adapter", paramLabel = "ADAPTER_DIR",
            description = "Apply a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) to the model.")
    Path adapter;
}
