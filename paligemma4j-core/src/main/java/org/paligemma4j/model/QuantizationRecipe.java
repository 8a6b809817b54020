package org.paligemma4j.model;

import org.paligemma4j.io.WeightNames;
import org.paligemma4j.tensor.WeightFormat;

/**
 * Which format each weight matrix takes when a model is opened quantized. q8 quantizes every matrix to int8.
 * q4 puts int4 where it saves the most bytes per decode step for the least accuracy, as llama.cpp's 4-bit
 * recipes do, and keeps int8 elsewhere:
 * <ul>
 *   <li>the tied embedding, which is also the LM head: its errors land directly on the logits;</li>
 *   <li>the whole vision tower and the projector: they run once per image, so their bytes cost memory but no
 *       decode time (llama.cpp keeps its vision projector files at 16 bits for the same reason);</li>
 *   <li>the decoder's key and value projections: every later position attends to what they write into the KV
 *       cache, and with Gemma's few key/value heads they are small (6% of a PaliGemma 2 3B layer's weights,
 *       1% of a PaliGemma 1 layer's).</li>
 * </ul>
 * Measured on the demo model (500 unseen scenes, top-1 agreement with the unquantized model, teacher-forced):
 * every matrix in int4 97.1%; with the vision tower and projector in int8 98.0%; with the key and value
 * projections as well 98.3% (all attention projections in int8: 98.7%, at 18% of a 3B layer's bytes).
 */
final class QuantizationRecipe {
    private QuantizationRecipe() {}

    /** The tied embedding / LM head. */
    static WeightFormat embedding(WeightFormat requested) {
        return int8InQ4(requested);
    }

    /** Every matrix of the vision tower, and the projector. */
    static WeightFormat imageEncoder(WeightFormat requested) {
        return int8InQ4(requested);
    }

    /** The decoder layers' key and value projections. */
    static WeightFormat keysAndValues(WeightFormat requested) {
        return int8InQ4(requested);
    }

    /** The format of the checkpoint matrix named {@code name} (for estimates made from the file's tensor names). */
    static WeightFormat ofTensor(String name, WeightFormat requested) {
        String canonical = WeightNames.canonical(name);
        boolean decoderLayer = canonical.startsWith(WeightNames.TEXT + "layers.");
        boolean keyOrValue = canonical.contains("self_attn.k_proj") || canonical.contains("self_attn.v_proj");
        return decoderLayer && !keyOrValue ? requested : int8InQ4(requested);
    }

    private static WeightFormat int8InQ4(WeightFormat requested) {
        return requested == WeightFormat.Q4 ? WeightFormat.Q8 : requested;
    }
}
