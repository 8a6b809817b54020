package org.paligemma4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.Generator;
import org.paligemma4j.generate.Prompt;
import org.paligemma4j.generate.TokenListener;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.ImagePreprocessor;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.io.GenerationConfig;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.io.PaliGemmaConfig;
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

    private PaliGemma(PaliGemmaModel model, Tokenizer tokenizer, ImagePreprocessor preprocessor, GenerationConfig generationConfig) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.preprocessor = preprocessor;
        this.generationConfig = generationConfig;
    }

    /** Opens config, weights, tokenizer and image preprocessing of a model directory (or a big_vision npz). */
    public static PaliGemma open(Path directory) throws IOException {
        if (!Files.exists(directory)) throw new IOException(directory + ": model directory does not exist");
        return open(ModelSource.of(directory));
    }

    /**
     * Opens a model with overrides: a config file, a tokenizer, or a big_vision {@code .npz} checkpoint (which needs
     * the tokenizer and takes its config from the override or from its shapes), e.g.
     * {@code PaliGemma.open(ModelSource.of(Path.of("pt_224.npz")).withTokenizer(Path.of("tokenizer.model")))}.
     */
    public static PaliGemma open(ModelSource source) throws IOException {
        Path tokenizerPath = source.tokenizerPath(); // an npz without a tokenizer fails before its weights are read
        if (!source.isBigVision() && !Files.isDirectory(source.path())) {
            throw new IOException(source.path() + (Files.exists(source.path())
                    ? ": not a model directory or a big_vision .npz file" : ": model directory does not exist"));
        }
        // A wrong config is the likelier mistake and cheap to find: report it before reading tokenizer and weights.
        if (source.config() != null) PaliGemmaConfig.loadFile(source.config());
        else if (!source.isBigVision()) PaliGemmaConfig.load(source.path());
        Tokenizer tokenizer = Tokenizer.load(tokenizerPath);
        PaliGemmaModel model = PaliGemmaModel.open(source, WeightFormat.AS_STORED);
        try {
            PaliGemmaConfig config = model.config();
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
        PaliGemmaConfig c = model.config();
        return Prompt.of(tokenizer, c.imageTokenIndex(), c.numImageTokens(), c.bosTokenId(), tokenizer.eosId(), text, suffix);
    }

    /** Ids that end generation: config.json's and generation_config.json's end-of-sequence ids. */
    public int[] stopIds() {
        return IntStream.concat(Arrays.stream(model.config().eosTokenIds()), Arrays.stream(generationConfig.eosTokenIds()))
                .distinct().toArray();
    }

    /**
     * The generated ids (a final {@code <eos>} included when produced) and their decoded text, with how long the
     * image encoding, prefill and decoding took. Immutable: {@link #ids()} returns a copy.
     */
    public record Output(int[] ids, String text, boolean stoppedOnEos, double imageSeconds, Generator.Timings timings,
                         int promptTokens) {
        public Output {
            ids = ids.clone();
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }
    }

    public Output generate(Path image, String prompt, GenerationOptions options) throws IOException {
        return generate(ImageLoader.load(image), prompt, options, null);
    }

    /** Generates from a decoded image; {@code listener} (may be null) sees each token as it is chosen. */
    public Output generate(RgbImage image, String prompt, GenerationOptions options, TokenListener listener) {
        Prompt p = prompt(prompt, null);
        checkLength(p.ids().length, options.maxNewTokens());
        long t0 = System.nanoTime();
        var embedding = model.encodeImage(preprocessor.pixelValues(image));
        double imageSeconds = (System.nanoTime() - t0) / 1e9;
        var result = new Generator(model, stopIds()).generate(
                new Generator.Request(p.ids(), embedding, options, false, null), listener);
        return new Output(result.ids(), tokenizer.decode(result.ids()), result.stoppedOnStopId(), imageSeconds,
                result.timings(), p.ids().length);
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
