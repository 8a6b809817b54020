package org.paligemma4j.generate;

import java.util.Arrays;
import org.paligemma4j.tokenizer.Tokenizer;

/**
 * Input ids exactly as the reference processor builds them: {@code <image>}×N, {@code <bos>}, the tokens
 * of {@code prompt + "\n"}; for training-style inputs, then the tokens of the suffix and {@code <eos>}.
 * The newline ends the prefix; the tokenizer itself adds no special tokens.
 *
 * @param prefixLength tokens that attend fully (everything up to and including the newline)
 */
public record Prompt(int[] ids, int prefixLength) {

    public static Prompt of(Tokenizer tokenizer, int imageTokenId, int imageTokens, int bosId, int eosId,
                            String prompt, String suffix) {
        int[] text = tokenizer.encode(prompt + "\n");
        int prefix = imageTokens + 1 + text.length;
        int[] suffixIds = suffix == null ? new int[0] : tokenizer.encode(suffix);
        int[] ids = new int[prefix + (suffix == null ? 0 : suffixIds.length + 1)];
        Arrays.fill(ids, 0, imageTokens, imageTokenId);
        ids[imageTokens] = bosId;
        System.arraycopy(text, 0, ids, imageTokens + 1, text.length);
        if (suffix != null) {
            System.arraycopy(suffixIds, 0, ids, prefix, suffixIds.length);
            ids[ids.length - 1] = eosId;
        }
        return new Prompt(ids, prefix);
    }

    /** The prefix alone (what generation starts from). */
    public int[] prefixIds() {
        return Arrays.copyOf(ids, prefixLength);
    }

    public boolean hasSuffix() {
        return prefixLength < ids.length;
    }
}
