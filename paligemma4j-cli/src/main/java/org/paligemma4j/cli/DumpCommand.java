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
    @Mixin
    ModelOptions model;

    @Option(names = "--image", required = true, paramLabel = "IMG", description = "Image file.")
    Path image;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The task prefix.")
    String prompt;

    @Option(names = "--suffix", paramLabel = "TEXT", description = "A target answer for a teacher-forced forward pass and loss.")
    String suffix;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (created if missing).")
    Path out;

    @Override
    public Integer call() throws IOException {
        ModelSource source = model.source();
        var options = sampling.toOptions(model);
        RgbImage picture = ImageLoader.load(image);
        try (PaliGemma pg = PaliGemma.open(source)) {
            PaliGemmaModel m = pg.model();
            Prompt p = pg.prompt(prompt, suffix);
            pg.checkLength(p.ids().length, options.maxNewTokens());
            Files.createDirectories(out);
            int size = m.config().vision().imageSize();
            int hidden = m.config().text().hiddenSize();
            int tokens = m.config().numImageTokens();
            int length = p.ids().length;

            RgbImage resized = pg.preprocessor().resize(picture);
            write("image_resized_uint8", NpyArray.ofUnsignedBytes(resized.rgb(), size, size, 3));
            float[] pixels = pg.preprocessor().normalize(resized);
            write("pixel_values", NpyArray.ofFloats(pixels, 1, 3, size, size));
            write("input_ids", NpyArray.ofLongs(toLongs(p.ids()), 1, length));
            long[] ones = new long[length];
            java.util.Arrays.fill(ones, 1);
            write("attention_mask", NpyArray.ofLongs(ones, 1, length));

            var embedding = m.encodeImage(pixels);
            write("vision_last_hidden_state", NpyArray.ofFloats(embedding.visionHiddenState(), 1, tokens, m.config().vision().hiddenSize()));
            write("image_features_projected", NpyArray.ofFloats(embedding.projected(), 1, tokens, hidden));
            write("image_features_scaled", NpyArray.ofFloats(embedding.scaled(), 1, tokens, hidden));

            List<float[]> states = new ArrayList<>();
            float[] x = m.embedPrompt(p.ids(), embedding);
            m.decode(x, length, m.newCache(length), p.prefixLength(), options.slidingWindow(), (i, h, n) -> states.add(h));
            float[] all = new float[states.size() * length * hidden];
            for (int s = 0; s < states.size(); s++) System.arraycopy(states.get(s), 0, all, s * length * hidden, length * hidden);
            write("decoder_hidden_states", NpyArray.ofFloats(all, states.size(), length, hidden));
            float[] logits = m.logits(x, 0, length);
            write("logits", NpyArray.ofFloats(logits, 1, length, m.vocabSize()));
            if (p.hasSuffix()) {
                long[] types = new long[length];
                for (int i = p.prefixLength(); i < length; i++) types[i] = 1;
                write("token_type_ids", NpyArray.ofLongs(types, 1, length));
                long[] labels = new long[length];
                for (int i = 0; i < length; i++) labels[i] = i < p.prefixLength() ? -100 : p.ids()[i];
                write("labels", NpyArray.ofLongs(labels, 1, length));
                write("generate_input_ids", NpyArray.ofLongs(toLongs(p.prefixIds()), 1, p.prefixLength()));
                float loss = (float) SuffixLoss.of(logits, p.ids(), p.prefixLength(), m.vocabSize());
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
                    + Json.escape(pg.tokenizer().decode(result.ids())) + ")");
        }
        return 0;
    }

    private void write(String name, NpyArray array) throws IOException {
        array.write(out.resolve(name + ".npy"));
    }

    private static long[] toLongs(int[] ids) {
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = ids[i];
        return out;
    }
}
