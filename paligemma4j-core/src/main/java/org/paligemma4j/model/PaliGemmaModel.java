package org.paligemma4j.model;

import static org.paligemma4j.io.WeightNames.projector;

import java.nio.file.Path;
import org.paligemma4j.io.Checkpoint;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.tensor.WeightFormat;

/**
 * PaliGemma: SigLIP image encoder → linear projector → Gemma decoder with a prefix-LM mask. Holds the
 * memory-mapped checkpoint, so it must be closed.
 *
 * <p>The image becomes {@code numImageTokens} embeddings that replace the {@code <image>} tokens of the
 * prompt; everything in the prompt attends to everything else in it, and generated tokens attend causally.
 */
public final class PaliGemmaModel implements AutoCloseable {
    private final Path directory;
    private final PaliGemmaConfig config;
    private final Checkpoint checkpoint;
    private final SiglipVisionEncoder vision;
    private final Linear projector;
    private final GemmaDecoder decoder;
    private final WeightFormat format;
    /** Volatile: a server may set it while request threads make caches. */
    private volatile KvCachePrecision kvCachePrecision = KvCachePrecision.FLOAT32;

    private PaliGemmaModel(Path directory, PaliGemmaConfig config, String configName, Checkpoint checkpoint, WeightFormat format) {
        this.directory = directory;
        this.config = config;
        this.checkpoint = checkpoint;
        ModelWeights weights = ModelWeights.bind(checkpoint, config, configName);
        this.format = format;
        this.vision = new SiglipVisionEncoder(weights, config.vision(), QuantizationRecipe.imageEncoder(format));
        this.projector = new Linear(weights, projector("weight"), projector("bias"), QuantizationRecipe.imageEncoder(format));
        this.decoder = new GemmaDecoder(weights, config.text(), format);
    }

    /** Opens the model in a Hugging Face PaliGemma directory (config.json + safetensors, single or sharded). */
    public static PaliGemmaModel open(Path directory) {
        return open(directory, WeightFormat.AS_STORED);
    }

    /**
     * Opens the model with its weight matrices in {@code format}: as stored (mapped, nothing copied), or
     * quantized to int8/int4 while loading (the mapped originals are then released).
     */
    public static PaliGemmaModel open(Path directory, WeightFormat format) {
        return open(ModelSource.of(directory), format);
    }

    /** Opens the model of {@code source} (a Hugging Face directory or a big_vision npz, with its config override). */
    public static PaliGemmaModel open(ModelSource source, WeightFormat format) {
        ModelSource.Weights weights = source.openWeights();
        return open(weights.checkpoint(), weights.config(), weights.configName(), format);
    }

    /**
     * Binds {@code checkpoint} to {@code config}; the model owns the checkpoint from here on (closes it, also when
     * binding fails).
     */
    public static PaliGemmaModel open(Checkpoint checkpoint, PaliGemmaConfig config, WeightFormat format) {
        return open(checkpoint, config, ModelWeights.defaultConfigName(checkpoint), format);
    }

    private static PaliGemmaModel open(Checkpoint checkpoint, PaliGemmaConfig config, String configName, WeightFormat format) {
        try {
            HeapFootprint.requireRoom(HeapFootprint.ofWeights(checkpoint, format), "opening " + checkpoint.directory()
                    + (format == WeightFormat.AS_STORED ? "" : " as " + format.cliName()));
            PaliGemmaModel model = new PaliGemmaModel(checkpoint.directory(), config, configName, checkpoint, format);
            if (format != WeightFormat.AS_STORED) {
                // Every weight now lives on the heap (quantized, or copied as small float arrays): the pages
                // quantizing touched at tensor edges, and the small tensors', can leave resident memory.
                for (SafeTensor t : checkpoint.tensors().values()) {
                    if (t.data().isMapped()) t.data().unload();
                }
            }
            return model;
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /**
     * Opens the model with a LoRA adapter applied at inference, as PEFT's unmerged {@code lora.Linear}:
     * each adapted layer adds {@code scaling·B·(A·x)} to its output. The base weights stay as stored.
     */
    public static PaliGemmaModel open(Path directory, WeightFormat format, LoraAdapter adapter) {
        PaliGemmaModel model = open(directory, format);
        model.attach(adapter);
        return model;
    }

    /** Applies {@code adapter}'s modules to the layers they adapt, at inference (null: none). */
    public void attach(LoraAdapter adapter) {
        if (adapter == null) return;
        vision.attach(adapter);
        projector.attach(adapter);
        decoder.attach(adapter);
    }

    /** The model directory, or the big_vision {@code .npz} file the weights came from. */
    public Path directory() {
        return directory;
    }

    public PaliGemmaConfig config() {
        return config;
    }

    public WeightFormat weightFormat() {
        return format;
    }

    /** The image as the decoder sees it, with the intermediate stages kept for inspection. */
    public record ImageEmbedding(float[] visionHiddenState, float[] projected, float[] scaled, int tokens) {
        /** Only what the decoder reads (the scaled features): what a cache keeps. */
        public ImageEmbedding decoderInput() {
            return new ImageEmbedding(null, null, scaled, tokens);
        }

        /**
         * Several images' embeddings in order, as one: image 1 fills the first tokens, image 2 the next, and so on
         * (each image was encoded on its own). Stages missing from any part are null in the result.
         */
        public static ImageEmbedding concat(java.util.List<ImageEmbedding> parts) {
            if (parts.size() == 1) return parts.getFirst();
            int tokens = 0;
            for (ImageEmbedding p : parts) tokens += p.tokens;
            return new ImageEmbedding(join(parts, ImageEmbedding::visionHiddenState), join(parts, ImageEmbedding::projected),
                    join(parts, ImageEmbedding::scaled), tokens);
        }

        private static float[] join(java.util.List<ImageEmbedding> parts, java.util.function.Function<ImageEmbedding, float[]> stage) {
            int n = 0;
            for (ImageEmbedding p : parts) {
                if (stage.apply(p) == null) return null;
                n += stage.apply(p).length;
            }
            float[] out = new float[n];
            int at = 0;
            for (ImageEmbedding p : parts) {
                float[] a = stage.apply(p);
                System.arraycopy(a, 0, out, at, a.length);
                at += a.length;
            }
            return out;
        }
    }

    /**
     * pixel values {@code [3, S, S]} → image embeddings. The projected features are divided by
     * sqrt(text hidden size) because the decoder multiplies every input embedding by sqrt(hidden): image
     * tokens thus enter the decoder unscaled.
     */
    public ImageEmbedding encodeImage(float[] pixelValues) {
        int tokens = config.numImageTokens();
        float[] hidden = vision.encode(pixelValues);
        float[] projected = new float[tokens * projector.out()];
        projector.apply(hidden, tokens, projected);
        projector.addAdapter(hidden, tokens, projected);
        float[] scaled = projected.clone();
        float divisor = (float) Math.sqrt(config.text().hiddenSize());
        for (int i = 0; i < scaled.length; i++) scaled[i] /= divisor;
        return new ImageEmbedding(hidden, projected, scaled, tokens);
    }

    /**
     * Word embeddings {@code [ids.length, hidden]} × sqrt(hidden) of generated tokens. A generated {@code <image>}
     * id is a word here, as in the reference's cached generation (only the prompt's image tokens take image
     * features): tiny or fine-tuned models do emit it.
     */
    public float[] embedTokens(int[] ids) {
        int hidden = config.text().hiddenSize();
        float[] x = new float[ids.length * hidden];
        for (int t = 0; t < ids.length; t++) decoder.embed(ids[t], x, t * hidden);
        return x;
    }

    /**
     * Input embeddings {@code [ids.length, hidden]}: each {@code <image>} token takes the next image
     * embedding, every other token its (tied) word embedding, and all are multiplied by sqrt(hidden).
     */
    public float[] embedPrompt(int[] ids, ImageEmbedding image) {
        int hidden = config.text().hiddenSize();
        float[] x = new float[ids.length * hidden];
        int imageIndex = 0;
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] == config.imageTokenIndex()) {
                if (image == null || imageIndex >= image.tokens()) {
                    throw new IllegalArgumentException("the prompt has more <image> tokens than the image provides ("
                            + (image == null ? 0 : image.tokens()) + ")");
                }
                System.arraycopy(image.scaled(), imageIndex * hidden, x, t * hidden, hidden);
                for (int i = 0; i < hidden; i++) x[t * hidden + i] *= decoder.embedScale;
                imageIndex++;
            } else {
                decoder.embed(ids[t], x, t * hidden);
            }
        }
        if (image != null && imageIndex != image.tokens()) {
            throw new IllegalArgumentException("the prompt has " + imageIndex + " <image> tokens but the image gives "
                    + image.tokens() + " embeddings");
        }
        return x;
    }

    /** A fresh cache for up to {@code capacity} positions, in this model's {@linkplain #kvCachePrecision() precision}. */
    public KvCache newCache(int capacity) {
        var t = config.text();
        return new KvCache(t.numHiddenLayers(), capacity, t.numKeyValueHeads(), t.headDim(), kvCachePrecision);
    }

    /** How the caches {@link #newCache} makes store keys and values: float32 (the reference's) unless changed. */
    public KvCachePrecision kvCachePrecision() {
        return kvCachePrecision;
    }

    /**
     * Makes the caches created from now on store keys and values in {@code precision}; caches already made keep
     * theirs. {@link KvCachePrecision#BFLOAT16} halves them at a small cost in exactness.
     */
    public void setKvCachePrecision(KvCachePrecision precision) {
        this.kvCachePrecision = java.util.Objects.requireNonNull(precision, "precision");
    }

    /** Receives the decoder's hidden states: index 0 the input embeddings, then each layer's output. */
    public interface HiddenStateSink {
        void hiddenState(int index, float[] hidden, int tokens);
    }

    /**
     * Runs embeddings {@code x [tokens, hidden]} through the decoder after what {@code cache} holds, with
     * the first {@code prefixLength} positions forming the fully-visible prefix. Returns the final-normed
     * hidden states (in {@code x}).
     */
    public float[] decode(float[] x, int tokens, KvCache cache, int prefixLength, SlidingWindowSemantics semantics,
                          HiddenStateSink sink) {
        if (sink != null) sink.hiddenState(0, x.clone(), tokens);
        decoder.forward(x, tokens, cache, prefixLength, semantics,
                sink == null ? null : (layer, h, n) -> sink.hiddenState(layer + 1, h.clone(), n));
        return x;
    }

    /**
     * One decode step of several sequences together: row t of {@code x [rows, hidden]} (from
     * {@link #embedTokens}) is the next token of the sequence cached in {@code caches[t]}, whose prefix is
     * {@code prefixLengths[t]} long. The weights are read once for all rows; each row's result is exactly
     * what {@link #decode} gives for that sequence alone. Returns the final-normed hidden states (in {@code x}).
     */
    public float[] decodeStep(float[] x, int rows, KvCache[] caches, int[] prefixLengths, SlidingWindowSemantics semantics) {
        if (caches.length < rows || prefixLengths.length < rows) {
            throw new IllegalArgumentException(rows + " rows need as many caches and prefix lengths, got "
                    + caches.length + " and " + prefixLengths.length);
        }
        decoder.forwardStep(x, rows, caches, prefixLengths, semantics);
        return x;
    }

    /** Logits {@code [rows, vocab]} of a {@link #decodeStep}'s hidden states, each row as for a lone sequence. */
    public float[] stepLogits(float[] hidden, int rows) {
        return decoder.stepLogits(hidden, rows);
    }

    /** Logits {@code [rows, vocab]} for {@code rows} consecutive hidden states starting at row {@code from}. */
    public float[] logits(float[] hidden, int from, int rows) {
        int h = config.text().hiddenSize();
        float[] slice = from == 0 && hidden.length == rows * h ? hidden : java.util.Arrays.copyOfRange(hidden, from * h, (from + rows) * h);
        return decoder.logits(slice, rows);
    }

    /**
     * Runs this model's kernels on tiny inputs until the JIT has compiled them (about 2 s on 2 cores for a 3B model),
     * so that the first real request runs at full speed: a server calls it before it reports ready. Models under
     * 256 MB of decode weights skip it. It moves the compilation rather than removing it, so a one-shot command
     * gains nothing from it and does not call it.
     */
    public void warmUpKernels() {
        // A small model's first pass is short even before compilation: nothing to gain.
        if (decodeWeightBytesPerToken() < WARM_UP_MIN_BYTES) return;
        KernelWarmUp.run(matrices(), config.vision().headDim(), config.text().headDim());
    }

    /** Models whose decode step reads fewer bytes of weights than this skip {@link #warmUpKernels}. */
    private static final long WARM_UP_MIN_BYTES = 256L << 20;

    /** Every weight matrix of the model (vision, projector, decoder, LM head) in its current format. */
    public java.util.List<org.paligemma4j.tensor.FloatMatrix> matrices() {
        java.util.List<org.paligemma4j.tensor.FloatMatrix> out = new java.util.ArrayList<>();
        vision.collectMatrices(out);
        out.add(projector.weight);
        decoder.collectMatrices(out);
        return out;
    }

    /** The checkpoint the weights were read from (for saving a quantized copy). */
    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** Bytes of weights one decode step reads (decoder matrices and LM head, in their current format). */
    public long decodeWeightBytesPerToken() {
        return decoder.weightBytesPerToken();
    }

    public int vocabSize() {
        return decoder.vocabSize();
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
