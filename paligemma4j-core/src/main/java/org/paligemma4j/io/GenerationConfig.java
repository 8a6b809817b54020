package org.paligemma4j.io;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code generation_config.json}: the checkpoint's generation defaults. Absent fields take the values of
 * Hugging Face's GenerationConfig; an absent file falls back to the model config's special ids.
 *
 * @param maxNewTokens null when the file sets none (then {@code maxLength} bounds prompt + output)
 */
public record GenerationConfig(
        int bosTokenId,
        int[] eosTokenIds,
        int padTokenId,
        int maxLength,
        Integer maxNewTokens,
        boolean doSample,
        double temperature,
        int topK,
        double topP) {

    public static GenerationConfig load(Path dir, PaliGemmaConfig model) {
        Path file = dir.resolve("generation_config.json");
        if (!Files.isRegularFile(file)) return defaults(model);
        JsonFields g = new JsonFields(JsonFields.readObject(file), file.toString());
        return new GenerationConfig(
                g.intOr("bos_token_id", model.bosTokenId()),
                g.intsOr("eos_token_id", model.eosTokenIds()),
                g.intOr("pad_token_id", model.padTokenId()),
                g.intOr("max_length", 20),
                g.intOrNull("max_new_tokens"),
                g.boolOr("do_sample", false),
                g.doubleOr("temperature", 1.0),
                g.intOr("top_k", 50),
                g.doubleOr("top_p", 1.0));
    }

    /** What a model without generation_config.json uses: its config's special ids and GenerationConfig's defaults. */
    public static GenerationConfig defaults(PaliGemmaConfig model) {
        return new GenerationConfig(model.bosTokenId(), model.eosTokenIds(), model.padTokenId(), 20, null, false, 1.0, 50, 1.0);
    }
}
