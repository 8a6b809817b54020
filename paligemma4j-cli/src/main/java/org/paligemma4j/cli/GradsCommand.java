package org.paligemma4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.Prompt;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.model.LoraAdapter;
import org.paligemma4j.model.PaliGemmaTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "grads", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"One training forward and backward pass (no update) on image + prompt + suffix, teacher-forced under the",
                "prefix-LM mask; the loss is the mean cross-entropy of the suffix tokens, <eos> included. Writes loss.npy (float32",
                "scalar) and full_grads.safetensors (float32 d loss/d θ of every parameter, under the checkpoint's own tensor",
                "names) or, with --lora, lora_grads.safetensors (d loss/d A and d B under the adapter's PEFT names).",
                "For a Gemma 2 prefix longer than the sliding window, --attention transformers-4.49 gives that version's mask."})
final class GradsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--image", required = true, paramLabel = "IMG", description = "Image file.")
    Path image;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The task prefix, e.g. \"caption en\".")
    String prompt;

    @Option(names = "--suffix", required = true, paramLabel = "TEXT", description = "The target answer.")
    String suffix;

    @Option(names = "--lora", paramLabel = "ADAPTER_DIR",
            description = "A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors): gradients of its A and B only.")
    Path lora;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (created if missing).")
    Path out;

    @Override
    public Integer call() throws IOException {
        Path dir = model.resolve();
        if (java.nio.file.Files.exists(out) && !java.nio.file.Files.isDirectory(out)) {
            throw new CliException(out + ": --out exists and is not a directory");
        }
        RgbImage picture = ImageLoader.load(image);
        try (PaliGemma pg = ModelLoading.open(dir, false)) {
            LoraAdapter adapter = lora == null ? null : LoraAdapter.load(lora, pg.model().config());
            Prompt p = pg.prompt(prompt, suffix);
            pg.checkLength(p.ids().length, 0);
            float[] pixels = pg.preprocessor().pixelValues(picture);
            try (PaliGemmaTraining training = PaliGemmaTraining.open(dir, adapter)) {
                int targets = training.lossTokens(p.ids(), p.prefixLength());
                if (targets == 0) throw new CliException("the suffix has no token to learn (every target is the pad token)");
                double loss = training.lossAndGradients(pixels, p.ids(), p.prefixLength(), model.semantics(), targets, null);
                Files.createDirectories(out);
                NpyArray.ofFloats(new float[] {(float) loss}).write(out.resolve("loss.npy"));
                Path grads = out.resolve(adapter == null ? "full_grads.safetensors" : "lora_grads.safetensors");
                if (adapter == null) training.writeGradients(grads);
                else adapter.saveGradients(grads);
                System.out.printf(java.util.Locale.ROOT, "loss %.6f over %d suffix tokens; wrote %s and %s%n", loss, targets,
                        out.resolve("loss.npy"), grads);
            }
        }
        return 0;
    }
}
