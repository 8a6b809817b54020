package org.paligemma4j.io;

/**
 * The SigLIP vision tower's shape ({@code vision_config}, model_type {@code siglip_vision_model}).
 * Fields absent from config.json take the values Hugging Face's SiglipVisionConfig gives them.
 */
public record VisionConfig(
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numChannels,
        int imageSize,
        int patchSize,
        double layerNormEps,
        String hiddenAct,
        int projectionDim) {

    public VisionConfig {
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize
                    + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (patchSize <= 0 || imageSize % patchSize != 0) {
            throw new IllegalArgumentException("image_size " + imageSize
                    + " is not a multiple of patch_size " + patchSize);
        }
    }

    /** Patches per side: 224/14 = 16. */
    public int patchesPerSide() {
        return imageSize / patchSize;
    }

    /** Image tokens the encoder produces: 256, 1024 or 4096 for 224, 448 or 896 pixels. */
    public int numImageTokens() {
        return patchesPerSide() * patchesPerSide();
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Elements of one flattened patch: channels × patch × patch. */
    public int patchElements() {
        return numChannels * patchSize * patchSize;
    }
}
