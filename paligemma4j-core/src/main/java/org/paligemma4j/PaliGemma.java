package org.paligemma4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.ArrayList;
import java.util.List;
import org.paligemma4j.generate.GenerationListener;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.generate.Sequence;
import org.paligemma4j.generate.Prompt;
import org.paligemma4j.generate.TokenListener;
import org.paligemma4j.hub.DownloadProgress;
import org.paligemma4j.hub.Hub;
import org.paligemma4j.hub.HubEnvironment;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.ImagePreprocessor;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.io.GenerationConfig;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.model.ImageFeatureCache;
import org.paligemma4j.model.LoraAdapter;
import org.paligemma4j.model.KvCachePrecision;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.tensor.WeightFormat;
import org.paligemma4j.tokenizer.Tokenizer;

/**
 * PaliGemma as a library: open a Hugging Face model directory, give it an image and a prompt, get text.
 *
 * <pre>{@code
 * try (PaliGemma pg = PaliGemma.open(Path.of("paligemma-3b-mix-224"))) {
 *     String caption = pg.generate(Path.of("cat.jpg"), "caption en", GenerationOptions.defaults()).text();
 * }
 * }</pre>
 *
 * The model's weights stay memory-mapped until {@link #close()}.
 */
public final class PaliGemma implements AutoCloseable {
    private final PaliGemmaModel model;
    private final Tokenizer tokenizer;
    private final ImagePreprocessor preprocessor;
    private final GenerationConfig generationConfig;
    private final ImageFeatureCache featureCache = new ImageFeatureCache(DEFAULT_FEATURE_CACHE_BYTES);

    /** Room for the features of about 50 images at 224 px (5 MB each for a 3B model) or 3 at 896 px. */
    public static final long DEFAULT_FEATURE_CACHE_BYTES = 256L << 20;

    private PaliGemma(PaliGemmaModel model, Tokenizer tokenizer, ImagePreprocessor preprocessor, GenerationConfig generationConfig) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.preprocessor = preprocessor;
        this.generationConfig = generationConfig;
    }

    /**
     * Opens a model directory path, or a Hugging Face Hub id {@code owner/name[@revision]}: the Hub id is looked up
     * in the shared Hugging Face cache and downloaded there first when missing (see {@link Hub} for the
     * environment variables it honours: {@code HF_TOKEN}, {@code HF_HUB_CACHE}, {@code HF_HUB_OFFLINE}, …).
     */
    public static PaliGemma open(String model) throws IOException {
        return open(model, HubEnvironment.fromSystem());
    }

    /** As {@link #open(String)}, with the Hub endpoint, cache and token given instead of read from the environment. */
    public static PaliGemma open(String model, HubEnvironment hub) throws IOException {
        try (Hub h = new Hub(hub, DownloadProgress.console(System.err))) {
            return open(h.locate(model));
        }
    }

    /** As {@link #open(String)}, with the weight matrices in {@code format} (as stored, or quantized while loading). */
    public static PaliGemma open(String model, WeightFormat format) throws IOException {
        try (Hub h = new Hub(HubEnvironment.fromSystem(), DownloadProgress.console(System.err))) {
            return open(h.locate(model), format, null);
        }
    }

    /** Opens config, weights, tokenizer and image preprocessing of a model directory (or a big_vision npz). */
    public static PaliGemma open(Path directory) throws IOException {
        return open(directory, WeightFormat.AS_STORED, null);
    }

    /** Opens a model directory with its weight matrices in {@code format} (as stored, or quantized while loading). */
    public static PaliGemma open(Path directory, WeightFormat format) throws IOException {
        return open(directory, format, null);
    }

    /**
     * Opens a model directory with the PEFT LoRA adapter in {@code adapterDirectory} applied (null for none):
     * the adapted layers add the adapter's share to their outputs, the stored weights stay untouched.
     */
    public static PaliGemma open(Path directory, Path adapterDirectory) throws IOException {
        return open(directory, WeightFormat.AS_STORED, adapterDirectory);
    }

    /**
     * Opens a model directory (or a big_vision npz) with its weight matrices in {@code format} and the PEFT LoRA
     * adapter in {@code adapterDirectory} (null for none) applied at inference.
     */
    public static PaliGemma open(Path directory, WeightFormat format, Path adapterDirectory) throws IOException {
        if (!Files.exists(directory)) throw new IOException(directory + ": model directory does not exist");
        return open(ModelSource.of(directory), format, adapterDirectory);
    }

    /**
     * Opens a model with overrides: a config file, a tokenizer, or a big_vision {@code .npz} checkpoint (which needs
     * the tokenizer and takes its config from the override or from its shapes), e.g.
     * {@code PaliGemma.open(ModelSource.of(Path.of("pt_224.npz")).withTokenizer(Path.of("tokenizer.model")))}.
     */
    public static PaliGemma open(ModelSource source) throws IOException {
        return open(source, WeightFormat.AS_STORED, null);
    }

    /**
     * Compiles the model's kernels ahead of the first request by running them on tiny inputs (see
     * {@link PaliGemmaModel#warmUpKernels}); for servers and other long-lived processes. Returns this.
     */
    public PaliGemma warmUp() {
        model.warmUpKernels();
        return this;
    }

    /**
     * Makes generations from now on keep their KV caches in {@code precision} (see {@link KvCachePrecision}):
     * {@link KvCachePrecision#BFLOAT16} halves the cache's memory and the bytes each decode step reads from it,
     * which matters at long prompts (448 and 896 px), and changes results slightly. Returns this.
     */
    public PaliGemma withKvCache(KvCachePrecision precision) {
        model.setKvCachePrecision(precision);
        return this;
    }

    /** {@link #open(ModelSource)} with the weights in {@code format} and a LoRA adapter (null for none) applied. */
    public static PaliGemma open(ModelSource source, WeightFormat format, Path adapterDirectory) throws IOException {
        Path tokenizerPath = source.tokenizerPath(); // an npz without a tokenizer fails before its weights are read
        if (!source.isBigVision() && !Files.isDirectory(source.path())) {
            throw new IOException(source.path() + (Files.exists(source.path())
                    ? ": not a model directory or a big_vision .npz file" : ": model directory does not exist"));
        }
        // A wrong config is the likelier mistake and cheap to find: report it before reading tokenizer and weights.
        if (source.config() != null) PaliGemmaConfig.loadFile(source.config());
        else if (!source.isBigVision()) PaliGemmaConfig.load(source.path());
        Tokenizer tokenizer = Tokenizer.load(tokenizerPath);
        PaliGemmaModel model = PaliGemmaModel.open(source, format);
        try {
            PaliGemmaConfig config = model.config();
            if (adapterDirectory != null) model.attach(LoraAdapter.load(adapterDirectory, config));
            Path dir = source.directory();
            Path pre = dir == null ? null : dir.resolve("preprocessor_config.json");
            ImagePreprocessor preprocessor = pre != null && Files.isRegularFile(pre) ? ImagePreprocessor.fromJson(pre)
                    : new ImagePreprocessor(config.vision().imageSize(), org.paligemma4j.image.ResampleFilter.BICUBIC,
                    ImagePreprocessor.DEFAULT_RESCALE_FACTOR, new double[] {0.5, 0.5, 0.5}, new double[] {0.5, 0.5, 0.5});
            if (preprocessor.height() != config.vision().imageSize() || preprocessor.width() != config.vision().imageSize()) {
                throw new IOException(pre + ": resizes to " + preprocessor.width() + "×" + preprocessor.height()
                        + " but the vision tower takes " + config.vision().imageSize() + " px");
            }
            GenerationConfig generation = dir == null ? GenerationConfig.defaults(config) : GenerationConfig.load(dir, config);
            return new PaliGemma(model, tokenizer, preprocessor, generation);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public PaliGemmaModel model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ImagePreprocessor preprocessor() {
        return preprocessor;
    }

    /** Prompt ids for {@code text} (and an optional training suffix), as the reference processor builds them. */
    public Prompt prompt(String text, String suffix) {
        return prompt(text, suffix, 1);
    }

    /**
     * Prompt ids for {@code text} with {@code images} images: all their image tokens first, in image order, then
     * {@code <bos>}, the text and {@code \n}. A text that starts with {@code <image>} tokens (the processor's
     * explicit form) must start with one per image; they are replaced by the images' tokens, which gives the
     * same ids.
     */
    public Prompt prompt(String text, String suffix, int images) {
        PaliGemmaConfig c = model.config();
        int explicit = 0;
        while (text.startsWith(IMAGE_TOKEN, explicit * IMAGE_TOKEN.length())) explicit++;
        if (explicit > 0 && explicit != images) {
            throw new IllegalArgumentException("the prompt starts with " + explicit + " " + IMAGE_TOKEN + " token"
                    + (explicit == 1 ? "" : "s") + " but " + images + " image" + (images == 1 ? " was" : "s were") + " given");
        }
        return Prompt.of(tokenizer, c.imageTokenIndex(), c.numImageTokens() * images, c.bosTokenId(), tokenizer.eosId(),
                text.substring(explicit * IMAGE_TOKEN.length()), suffix);
    }

    private static final String IMAGE_TOKEN = "<image>";

    /** Ids that end generation: config.json's and generation_config.json's end-of-sequence ids. */
    public int[] stopIds() {
        return IntStream.concat(Arrays.stream(model.config().eosTokenIds()), Arrays.stream(generationConfig.eosTokenIds()))
                .distinct().toArray();
    }

    /** The image features of recently seen images (bounded; see {@link ImageFeatureCache}). */
    public ImageFeatureCache featureCache() {
        return featureCache;
    }

    /**
     * A prompt ready for decoding: its ids and the decoder input of its images, with how long encoding them took
     * ({@code imageCached} when every image's features came from the feature cache).
     */
    public record PreparedPrompt(int[] ids, PaliGemmaModel.ImageEmbedding image, double imageSeconds, boolean imageCached) {}

    /**
     * Builds the prompt for {@code images} (each through the vision encoder on its own, or from the feature
     * cache) and checks that it fits the model's positions with {@code maxNewTokens} more.
     *
     * @throws IllegalArgumentException when there is no image, the prompt's image tokens do not match, or it is too long
     */
    public PreparedPrompt prepare(List<RgbImage> images, String text, int maxNewTokens) {
        if (images.isEmpty()) throw new IllegalArgumentException("PaliGemma needs at least one image");
        Prompt p = prompt(text, null, images.size());
        checkLength(p.ids().length, maxNewTokens);
        long t0 = System.nanoTime();
        boolean allCached = true;
        List<PaliGemmaModel.ImageEmbedding> parts = new ArrayList<>(images.size());
        for (RgbImage image : images) {
            float[] pixels = preprocessor.pixelValues(image);
            String key = ImageFeatureCache.key(pixels);
            PaliGemmaModel.ImageEmbedding e = featureCache.get(key);
            if (e == null) {
                allCached = false;
                e = model.encodeImage(pixels).decoderInput();
                featureCache.put(key, e);
            }
            parts.add(e);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new PreparedPrompt(p.ids(), PaliGemmaModel.ImageEmbedding.concat(parts), seconds, allCached);
    }

    /** A decoding slot for a prepared prompt (run alone or in an engine's batch). */
    public Sequence newSequence(PreparedPrompt prompt, GenerationOptions options, GenerationListener listener) {
        return new Sequence(model, tokenizer, prompt.ids(), prompt.image(), options, stopIds(), listener);
    }

    public GenerationResult generate(Path image, String prompt, GenerationOptions options) throws IOException {
        return generate(ImageLoader.load(image), prompt, options, null);
    }

    /** Generates from a decoded image; {@code listener} (may be null) sees each token as it is chosen. */
    public GenerationResult generate(RgbImage image, String prompt, GenerationOptions options, TokenListener listener) {
        return generate(List.of(image), prompt, options, listener == null ? null : (id, text) -> listener.onToken(id));
    }

    /**
     * Generates from one or more images (all their image tokens first, in order); {@code listener} (may be null)
     * sees each token and the text it makes final.
     */
    public GenerationResult generate(List<RgbImage> images, String prompt, GenerationOptions options, GenerationListener listener) {
        PreparedPrompt p = prepare(images, prompt, options.maxNewTokens());
        return newSequence(p, options, listener).generateAlone(p.imageSeconds(), p.imageCached());
    }

    /** Refuses prompts the model cannot position (RoPE is only trained up to max_position_embeddings). */
    public void checkLength(int promptTokens, int newTokens) {
        int max = model.config().text().maxPositionEmbeddings();
        if (promptTokens + newTokens > max) {
            throw new IllegalArgumentException("the prompt has " + promptTokens + " tokens (" + model.config().numImageTokens()
                    + " of them image tokens); with " + newTokens + " new tokens that exceeds the model's " + max + " positions");
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
