package org.paligemma4j.langchain4j;

import dev.langchain4j.exception.ModelNotFoundException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.tensor.WeightFormat;

/**
 * What {@link PaliGemmaChatModel} and {@link PaliGemmaStreamingChatModel} are built from: the model (a location,
 * or an already open {@link PaliGemma} that the caller keeps and closes), the default generation parameters
 * (a request's own parameters override them) and how many requests decode together.
 *
 * <p>Quantization: {@link #quantization} quantizes the weights to int8 or int4 while the model loads (or point
 * {@link #modelLocation} at a copy made once with {@code paligemma quantize --quant q8|q4}, which opens faster).
 *
 * @param <B> the concrete builder
 */
public abstract class PaliGemmaBuilder<B extends PaliGemmaBuilder<B>> {
    String modelLocation;
    WeightFormat quantization = WeightFormat.AS_STORED;
    PaliGemma model;
    String modelName;
    int maxTokens = 64;
    Double temperature, topP;
    Integer topK;
    long seed;
    int maxBatch = 8;
    boolean severalImages;
    Path maskDecoder;

    PaliGemmaBuilder() {}

    /** A model directory or a Hugging Face Hub id {@code owner/name[@revision]}; opened by {@code build()}, closed with the model. */
    public B modelLocation(String location) {
        this.modelLocation = location;
        return self();
    }

    /** The weight format when opening {@link #modelLocation}: "none" (as stored, default), "q8" or "q4". */
    public B quantization(String format) {
        this.quantization = WeightFormat.parse(format);
        return self();
    }

    /** An open model to use instead of a location; the caller keeps it and closes it after the chat model. */
    public B model(PaliGemma openModel) {
        this.model = openModel;
        return self();
    }

    /** The name reported in responses (default: the model location's last part). */
    public B modelName(String name) {
        this.modelName = name;
        return self();
    }

    /** Default most generated tokens (default 64); a request's {@code maxOutputTokens} overrides it. */
    public B maxTokens(int n) {
        if (n < 1) throw new IllegalArgumentException("maxTokens must be positive, got " + n);
        this.maxTokens = n;
        return self();
    }

    /** Default temperature; null or 0 decodes greedily (PaliGemma's reference), above 0 samples. */
    public B temperature(Double t) {
        this.temperature = t;
        return self();
    }

    public B topK(Integer k) {
        this.topK = k;
        return self();
    }

    public B topP(Double p) {
        this.topP = p;
        return self();
    }

    /** The sampling seed (LangChain4j's requests have none): the same seed and request give the same text. */
    public B seed(long s) {
        this.seed = s;
        return self();
    }

    /** Requests decoding together in one batch (default 8). */
    public B maxBatch(int n) {
        this.maxBatch = n;
        return self();
    }

    /**
     * Allows several images in one message (their image tokens come first, in order). Off by default: the
     * published checkpoints were trained with one image per prompt.
     */
    public B severalImages(boolean allowed) {
        this.severalImages = allowed;
        return self();
    }

    /** big_vision's {@code vae-oid.npz}, with which {@link PaliGemmaDetector#segment} decodes masks. */
    public B maskDecoder(Path vaeNpz) {
        this.maskDecoder = vaeNpz;
        return self();
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** Opens the model (unless one was given) and starts its engine. */
    ChatRuntime runtime() {
        if ((model == null) == (modelLocation == null)) {
            throw new IllegalArgumentException("give either modelLocation(...) or model(...), not " + (model == null ? "neither" : "both"));
        }
        PaliGemma m = model;
        boolean owned = m == null;
        if (owned) {
            try {
                m = PaliGemma.open(modelLocation, quantization);
            } catch (IOException e) {
                throw new ModelNotFoundException("cannot open PaliGemma model '" + modelLocation + "': " + e.getMessage(), e);
            }
        }
        String name = modelName != null ? modelName : modelLocation != null ? lastPart(modelLocation) : "paligemma";
        try {
            return new ChatRuntime(m, owned, name, this);
        } catch (RuntimeException e) {
            if (owned) m.close();
            throw e;
        }
    }

    private static String lastPart(String location) {
        String s = Objects.requireNonNull(location).replaceAll("[/\\\\]+$", "");
        int at = Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\'));
        return at >= 0 ? s.substring(at + 1) : s;
    }
}
