package org.paligemma4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.Generator;
import org.paligemma4j.generate.Prompt;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.model.SuffixLoss;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "dump", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole pipeline once and write every intermediate as .npy, named as in the reference goldens:",
                "image_resized_uint8, pixel_values, input_ids, attention_mask, vision_last_hidden_state, image_features_projected,",
                "image_features_scaled, decoder_hidden_states, logits, generated_ids, generate_step_logits.",
                "With --suffix the forward pass uses the training mask over prefix + suffix and loss.npy holds the suffix loss;",
                "token_type_ids and labels are written too, and generation starts from the prefix alone (generate_input_ids)."})
final class DumpCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--image", required = true, paramLabel = "IMG",
            description = "Image file; repeat for several images (the arrays then have the image axis first, as the multi-image goldens).")
    List<Path> images;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The task prefix.")
    String prompt;

    @Option(names = "--suffix", paramLabel = "TEXT", description = "A target answer for a teacher-forced forward pass and loss.")
    String suffix;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (created if missing).")
    Path out;

    @Option(names = "--logits", paramLabel = "last|all",
            description = "Logits of every position (all) or of the last one (last). Default: all up to 1 GiB, else last.")
    String logits;

    @Override
    public Integer call() throws IOException {
        if (logits != null && !logits.equals("all") && !logits.equals("last")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--logits must be last or all, not '" + logits + "'");
        }
        ModelSource source = model.source();
        var options = sampling.toOptions(model);
        List<RgbImage> pictures = new ArrayList<>();
        for (Path image : images) pictures.add(ImageLoader.load(image));
        int k = pictures.size();
        try (PaliGemma pg = PaliGemma.open(source)) {
            PaliGemmaModel m = pg.model();
            Prompt p = pg.prompt(prompt, suffix, k);
            pg.checkLength(p.ids().length, options.maxNewTokens());
            Files.createDirectories(out);
            int size = m.config().vision().imageSize();
            int hidden = m.config().text().hiddenSize();
            int tokens = m.config().numImageTokens();
            int length = p.ids().length;

            // Each image through the vision tower on its own; the arrays stack them on a leading image axis.
            byte[] resizedAll = new byte[k * size * size * 3];
            float[] pixelsAll = new float[k * 3 * size * size];
            List<PaliGemmaModel.ImageEmbedding> parts = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                RgbImage resized = pg.preprocessor().resize(pictures.get(i));
                System.arraycopy(resized.rgb(), 0, resizedAll, i * size * size * 3, size * size * 3);
                float[] pixels = pg.preprocessor().normalize(resized);
                System.arraycopy(pixels, 0, pixelsAll, i * 3 * size * size, 3 * size * size);
                parts.add(m.encodeImage(pixels));
            }
            write("image_resized_uint8", k == 1 ? NpyArray.ofUnsignedBytes(resizedAll, size, size, 3)
                    : NpyArray.ofUnsignedBytes(resizedAll, k, size, size, 3));
            write("pixel_values", NpyArray.ofFloats(pixelsAll, k, 3, size, size));
            write("input_ids", NpyArray.ofLongs(toLongs(p.ids()), 1, length));
            long[] ones = new long[length];
            java.util.Arrays.fill(ones, 1);
            write("attention_mask", NpyArray.ofLongs(ones, 1, length));

            var embedding = PaliGemmaModel.ImageEmbedding.concat(parts);
            write("vision_last_hidden_state", NpyArray.ofFloats(embedding.visionHiddenState(), k, tokens, m.config().vision().hiddenSize()));
            write("image_features_projected", NpyArray.ofFloats(embedding.projected(), k, tokens, hidden));
            write("image_features_scaled", NpyArray.ofFloats(embedding.scaled(), k, tokens, hidden));

            // Hidden states and logits are streamed to their files as they are computed: at 896 px they are
            // gigabytes, more than the default heap (and a Java array) holds.
            int layers = m.config().text().numHiddenLayers();
            float[] x = m.embedPrompt(p.ids(), embedding);
            try (var states = new NpyArray.FloatStreamWriter(out.resolve("decoder_hidden_states.npy"), layers + 1, length, hidden)) {
                m.decode(x, length, m.newCache(length), p.prefixLength(), options.slidingWindow(), (i, h, n) -> {
                    try {
                        states.write(h, 0, n * hidden);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
            String logitsNote = writeLogits(m, x, length);
            if (p.hasSuffix()) {
                long[] types = new long[length];
                for (int i = p.prefixLength(); i < length; i++) types[i] = 1;
                write("token_type_ids", NpyArray.ofLongs(types, 1, length));
                long[] labels = new long[length];
                for (int i = 0; i < length; i++) labels[i] = i < p.prefixLength() ? -100 : p.ids()[i];
                write("labels", NpyArray.ofLongs(labels, 1, length));
                write("generate_input_ids", NpyArray.ofLongs(toLongs(p.prefixIds()), 1, p.prefixLength()));
                // Only the rows that predict suffix tokens: position prefix-1 predicts the first suffix token.
                int first = p.prefixLength() - 1;
                float[] predicting = m.logits(x, first, length - 1 - first);
                float loss = (float) SuffixLoss.of(predicting, java.util.Arrays.copyOfRange(p.ids(), first, length), 1, m.vocabSize());
                write("loss", NpyArray.ofFloats(new float[] {loss}));
            }

            var result = new Generator(m, pg.stopIds())
                    .generate(new Generator.Request(p.prefixIds(), embedding, options, true, null), null);
            write("generated_ids", NpyArray.ofLongs(toLongs(result.ids()), result.ids().length));
            float[] steps = new float[result.stepLogits().size() * m.vocabSize()];
            for (int s = 0; s < result.stepLogits().size(); s++) {
                System.arraycopy(result.stepLogits().get(s), 0, steps, s * m.vocabSize(), m.vocabSize());
            }
            write("generate_step_logits", NpyArray.ofFloats(steps, result.stepLogits().size(), m.vocabSize()));
            System.out.println("wrote " + out + " (" + length + " input tokens, " + result.ids().length + " generated: "
                    + Json.escape(pg.tokenizer().decode(result.ids())) + ")" + logitsNote);
        }
        return 0;
    }

    /**
     * logits.npy: every position's logits ({@code [1, length, vocab]}, computed and written a block of rows at a
     * time), or with {@code --logits last} only the last position's ({@code [1, 1, vocab]}). Without the option,
     * all of them up to {@link #AUTO_ALL_LOGITS_BYTES}, else the last only, with a note saying so.
     */
    private String writeLogits(PaliGemmaModel m, float[] finalHidden, int length) throws IOException {
        long bytes = (long) length * m.vocabSize() * 4;
        boolean all = logits == null ? bytes <= AUTO_ALL_LOGITS_BYTES : logits.equals("all");
        if (!all) {
            float[] last = m.logits(finalHidden, length - 1, 1);
            NpyArray.ofFloats(last, 1, 1, m.vocabSize()).write(out.resolve("logits.npy"));
            return logits == null ? String.format(java.util.Locale.ROOT, "; logits.npy holds the last position only"
                    + " (all %d would take %.1f GB: pass --logits all to write them)", length, bytes / 1e9) : "";
        }
        int block = (int) Math.max(1, (64L << 20) / ((long) m.vocabSize() * 4));
        try (var writer = new NpyArray.FloatStreamWriter(out.resolve("logits.npy"), 1, length, m.vocabSize())) {
            for (int from = 0; from < length; from += block) {
                int rows = Math.min(block, length - from);
                float[] chunk = m.logits(finalHidden, from, rows);
                writer.write(chunk, 0, chunk.length);
            }
        }
        return "";
    }

    /** Without --logits, all positions' logits are written up to this size (1 GiB), else the last position's. */
    static final long AUTO_ALL_LOGITS_BYTES = 1L << 30;

    private void write(String name, NpyArray array) throws IOException {
        array.write(out.resolve(name + ".npy"));
    }

    private static long[] toLongs(int[] ids) {
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = ids[i];
        return out;
    }
}
