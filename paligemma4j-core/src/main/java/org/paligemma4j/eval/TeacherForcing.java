package org.paligemma4j.eval;

import java.util.Arrays;
import java.util.List;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.model.SlidingWindowSemantics;
import org.paligemma4j.tensor.Ops;

/**
 * A model's top-1 choices along a given continuation: the prompt and the continuation run through the decoder in
 * one teacher-forced pass (the prompt as the fully visible prefix, the continuation causal, exactly the attention
 * of generation), and position i's choice is the most likely token after the prompt and
 * {@code continuation[0..i-1]}. Comparing a quantized model's choices with the tokens the unquantized model
 * generated gives the top-1 agreement over generated positions.
 */
public final class TeacherForcing {
    private TeacherForcing() {}

    /** For each position of {@code continuation}, the id {@code model} ranks first there (ties: the lowest id). */
    public static int[] topChoices(PaliGemma model, List<RgbImage> images, String prompt, int[] continuation,
                                   SlidingWindowSemantics semantics) {
        if (continuation.length == 0) return new int[0];
        float[] logits = logits(model, images, prompt, continuation, semantics);
        int vocab = model.model().vocabSize();
        int[] choices = new int[continuation.length];
        for (int i = 0; i < choices.length; i++) choices[i] = Ops.argmax(logits, i * vocab, (i + 1) * vocab);
        return choices;
    }

    /**
     * The logits {@code model} gives at each position of {@code continuation} (row i: the next-token logits after
     * the prompt and {@code continuation[0..i-1]}), {@code [continuation.length, vocab]}.
     */
    public static float[] logits(PaliGemma model, List<RgbImage> images, String prompt, int[] continuation,
                                 SlidingWindowSemantics semantics) {
        if (continuation.length == 0) return new float[0];
        PaliGemma.PreparedPrompt p = model.prepare(images, prompt, continuation.length);
        PaliGemmaModel m = model.model();
        int promptLength = p.ids().length;
        int hidden = m.config().text().hiddenSize();
        // The last continuation token is only predicted, never fed.
        int fed = continuation.length - 1;
        int total = promptLength + fed;
        float[] x = Arrays.copyOf(m.embedPrompt(p.ids(), p.image()), total * hidden);
        if (fed > 0) {
            // Generated ids are words even when one is <image> (see PaliGemmaModel.embedTokens).
            float[] words = m.embedTokens(Arrays.copyOf(continuation, fed));
            System.arraycopy(words, 0, x, promptLength * hidden, fed * hidden);
        }
        m.decode(x, total, m.newCache(total), promptLength, semantics, null);
        return m.logits(x, promptLength - 1, continuation.length);
    }
}
