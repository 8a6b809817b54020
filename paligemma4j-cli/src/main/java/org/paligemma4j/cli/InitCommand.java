package org.paligemma4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.paligemma4j.io.InitialCheckpoint;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.scenes.SceneTasks;
import org.paligemma4j.tokenizer.SentencePieceModelWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "init", mixinStandardHelpOptions = true,
        description = {"Write a freshly initialised PaliGemma checkpoint (HF layout, float32) to train from scratch with 'train --full'.",
                "The architecture comes from --config (a config.json with vision_config and text_config); vocab_size,"
                        + " image_token_index and num_image_tokens are set from the tokenizer and the vision settings.",
                "The tokenizer is a small SentencePiece BPE model in PaliGemma's layout for the texts of 'paligemma scenes'"
                        + " (their words as single pieces, any other text through characters and byte fallback),"
                        + " then <loc0000>..<loc1023>, <seg000>..<seg127> and <image>.",
                "The <loc> embeddings start ordinal (sine/cosine of the bin), the rest as described in docs."})
final class InitCommand implements Callable<Integer> {

    /** Characters of the scene texts and of ordinary English prompts; anything else falls back to bytes. */
    static final String CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n.,;:?!'\"-()/";

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "A config.json giving the architecture.")
    Path config;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (created if needed).")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed of the initial weights (default: ${DEFAULT-VALUE}).")
    long seed;

    static InitialCheckpoint.Tokenizer sceneTokenizer() {
        SentencePieceModelWriter.Model m = SentencePieceModelWriter.write(SceneTasks.vocabulary(), CHARACTERS);
        return new InitialCheckpoint.Tokenizer(m.bytes(), m.pieces().size(), m.firstLocation(), m.firstSegmentation());
    }

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(config)) throw new CliException(config + ": no such file");
        PaliGemmaConfig c = InitialCheckpoint.write(config, sceneTokenizer(), seed, out);
        long bytes = Files.size(out.resolve("model.safetensors"));
        System.out.printf(Locale.ROOT, "wrote %s: vocabulary %d, %d image tokens, %.2f M parameters (%.2f MB float32, %.2f MB bf16)%n",
                out, c.text().vocabSize(), c.numImageTokens(), bytes / 4e6, bytes / 1e6, bytes / 2e6);
        return 0;
    }
}
