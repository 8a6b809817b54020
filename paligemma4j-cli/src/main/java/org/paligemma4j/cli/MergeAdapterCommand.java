package org.paligemma4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.model.AdapterMerge;
import org.paligemma4j.model.LoraAdapter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "merge-adapter", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fold a PEFT LoRA adapter into the model's weights (W + lora_alpha/r · B·A, as PEFT's merge_and_unload) and write",
                "the merged model to --out: the same files, one model.safetensors with every tensor under its original name and dtype."})
final class MergeAdapterCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--adapter", required = true, paramLabel = "ADAPTER_DIR",
            description = "The PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors).")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the merged model (created if missing).")
    Path out;

    @Override
    public Integer call() throws IOException {
        Path dir = model.resolve();
        LoraAdapter lora = LoraAdapter.load(adapter, PaliGemmaConfig.load(dir));
        int merged = AdapterMerge.write(dir, lora, out);
        System.out.println("merged " + merged + " weights; wrote " + out);
        return 0;
    }
}
