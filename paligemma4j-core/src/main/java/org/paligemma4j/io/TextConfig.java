package org.paligemma4j.io;

/**
 * The Gemma decoder's shape ({@code text_config}). One record serves Gemma (PaliGemma 1) and Gemma 2
 * (PaliGemma 2): the differences are values here, never separate code paths. Fields absent from
 * config.json take the defaults of Hugging Face's GemmaConfig or Gemma2Config.
 *
 * @param queryPreAttnScalar queries are scaled by {@code 1/sqrt(queryPreAttnScalar)}; Gemma uses head_dim
 * @param attnLogitSoftcap   Gemma 2's attention-logit soft cap, or null when none
 * @param finalLogitSoftcap  Gemma 2's final-logit soft cap, or null when none
 * @param slidingWindow      Gemma 2's local attention window, or null for global attention everywhere
 * @param slidingLayers      per layer: whether it uses the sliding window
 * @param postNorms          Gemma 2's extra RMSNorms after attention and after the MLP
 */
public record TextConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        int maxPositionEmbeddings,
        String hiddenActivation,
        double queryPreAttnScalar,
        Double attnLogitSoftcap,
        Double finalLogitSoftcap,
        Integer slidingWindow,
        boolean[] slidingLayers,
        boolean postNorms,
        boolean attentionBias,
        boolean tieWordEmbeddings) {

    public TextConfig {
        if (numKeyValueHeads <= 0 || numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numAttentionHeads
                    + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
        }
        if (slidingLayers.length != numHiddenLayers) {
            throw new IllegalArgumentException("layer_types has " + slidingLayers.length + " entries for "
                    + numHiddenLayers + " layers");
        }
        slidingLayers = slidingLayers.clone();
    }

    public boolean isGemma2() {
        return modelType.equals("gemma2");
    }

    /** Whether {@code layer} attends through the sliding window (Gemma 2: the even layers). */
    public boolean isSlidingWindowLayer(int layer) {
        return slidingWindow != null && slidingLayers[layer];
    }

    /** Query heads that share one key/value head. */
    public int queriesPerKeyValueHead() {
        return numAttentionHeads / numKeyValueHeads;
    }

    @Override
    public boolean[] slidingLayers() {
        return slidingLayers.clone();
    }

    /** This config with another vocabulary size (e.g. fitted to a checkpoint's embedding rows). */
    public TextConfig withVocabSize(int vocab) {
        return new TextConfig(modelType, vocab, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, ropeTheta, maxPositionEmbeddings, hiddenActivation, queryPreAttnScalar,
                attnLogitSoftcap, finalLogitSoftcap, slidingWindow, slidingLayers, postNorms, attentionBias, tieWordEmbeddings);
    }
}
