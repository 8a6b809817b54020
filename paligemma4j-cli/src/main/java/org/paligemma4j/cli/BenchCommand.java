package org.paligemma4j.cli;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.Generator;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.model.KvCache;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.tensor.Parallel;
import org.paligemma4j.tensor.WeightFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure load, image encoding, prefill and decode speed on a model (random inputs, so synth checkpoints work).",
                "After a warm-up run, reports the median of --runs runs, with effective GFLOPS and GB/s."})
final class BenchCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--quant", defaultValue = "none", description = "Weight format: none (as stored), q8 or q4 (default: ${DEFAULT-VALUE}).")
    String quant;

    @Option(names = "--prompt-tokens", defaultValue = "270", description = "Prompt length including image tokens (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "16", description = "Tokens to decode (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--runs", defaultValue = "3", description = "Measured runs after one warm-up (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        WeightFormat format;
        try {
            format = WeightFormat.parse(quant);
        } catch (IllegalArgumentException e) {
            throw new CliException("--quant: " + e.getMessage());
        }
        ModelSource source = model.source();
        if (runs < 1 || newTokens < 1) throw new CliException("--runs and --new-tokens must be at least 1");
        long t0 = System.nanoTime();
        try (PaliGemmaModel m = PaliGemmaModel.open(source, format)) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            PaliGemmaConfig c = m.config();
            int imageTokens = c.numImageTokens();
            if (promptTokens <= imageTokens + 1) {
                throw new CliException("--prompt-tokens must exceed the " + imageTokens + " image tokens + <bos>");
            }
            SplittableRandom random = new SplittableRandom(42);
            int size = c.vision().imageSize();
            float[] pixels = new float[3 * size * size];
            for (int i = 0; i < pixels.length; i++) pixels[i] = (float) (random.nextDouble() * 2 - 1);
            int[] prompt = new int[promptTokens];
            Arrays.fill(prompt, 0, imageTokens, c.imageTokenIndex());
            prompt[imageTokens] = c.bosTokenId();
            // Ordinary text ids (past the special tokens at the start of the vocabulary), within a tiny model's vocabulary too.
            int vocab = Math.min(c.text().vocabSize(), c.imageTokenIndex());
            int first = vocab > 21000 ? 1000 : 0;
            for (int i = imageTokens + 1; i < promptTokens; i++) prompt[i] = first + random.nextInt(Math.min(20000, vocab - first));

            double[] vision = new double[runs], prefill = new double[runs], decode = new double[runs];
            for (int r = -1; r < runs; r++) {
                long a = System.nanoTime();
                var image = m.encodeImage(pixels);
                long b = System.nanoTime();
                var options = GenerationOptions.defaults().withMaxNewTokens(newTokens + 1)
                        .withSlidingWindow(model.semantics());
                // Forced ids keep the run from stopping early at a random <eos>.
                int[] forced = new int[newTokens + 1];
                Arrays.fill(forced, Math.min(1000, vocab - 1));
                var result = new Generator(m, new int[0]).generate(new Generator.Request(prompt, image, options, false, forced), null);
                if (r >= 0) {
                    vision[r] = (b - a) / 1e9;
                    prefill[r] = result.timings().prefillSeconds();
                    decode[r] = result.timings().decodeSeconds() / result.timings().decodedTokens();
                }
            }
            double visionS = median(vision), prefillS = median(prefill), decodeS = median(decode);
            long peakRss = ProcessMemory.peakResidentBytes();
            double weightsGb = m.decodeWeightBytesPerToken() / 1e9;
            double visionGflop = visionFlops(c) / 1e9;
            // Prefill multiplies every layer matrix by every prompt token, but the LM head only by the last one.
            double prefillGflop = 2.0 * (layerParameters(c) * promptTokens + lmHeadParameters(c)) / 1e9;
            String out = String.format(Locale.ROOT,
                    "{\"load_s\":%.3f,\"vision_s\":%.3f,\"prefill_tokens\":%d,\"prefill_tok_s\":%.2f,\"decode_tok_s\":%.3f,"
                            + "\"peak_rss_mb\":%.0f,\"threads\":%d,\"quant\":\"%s\",\"weights_gb_per_token\":%.3f,\"decode_gb_s\":%.2f,"
                            + "\"vision_gflops\":%.1f,\"prefill_gflops\":%.1f}",
                    loadSeconds, visionS, promptTokens, promptTokens / prefillS, 1 / decodeS, peakRss / 1e6, Parallel.threads(),
                    quant, weightsGb, weightsGb / decodeS, visionGflop / visionS, prefillGflop / prefillS);
            if (json) {
                System.out.println(out);
            } else {
                System.out.printf(Locale.ROOT, "%s (%s, %d threads, vector %d bits, %s)%n  load %.2f s | SigLIP %.2f s (%.0f GFLOPS) | "
                                + "prefill %d tok at %.1f tok/s (%.0f GFLOPS) | decode %.2f tok/s (%.1f GB/s of %.2f GB/token) | peak RSS %.0f MB%n",
                        source.path(), quant, Parallel.threads(), jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                        Runtime.version(), loadSeconds, visionS, visionGflop / visionS, promptTokens, promptTokens / prefillS,
                        prefillGflop / prefillS, 1 / decodeS, weightsGb / decodeS, weightsGb, peakRss / 1e6);
            }
        }
        return 0;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Multiply-adds ×2 of the SigLIP tower: patch embedding + per layer QKV/out projections, attention, MLP. */
    static double visionFlops(PaliGemmaConfig c) {
        var v = c.vision();
        double n = c.numImageTokens(), d = v.hiddenSize(), i = v.intermediateSize();
        double perLayer = 2 * n * (4 * d * d + 2 * d * i) + 2 * 2 * n * n * d;
        return 2 * n * d * v.patchElements() + v.numHiddenLayers() * perLayer;
    }

    /** Weights of the decoder layers' matrices (attention projections and MLP). */
    static double layerParameters(PaliGemmaConfig c) {
        var t = c.text();
        double h = t.hiddenSize(), q = t.numAttentionHeads() * (double) t.headDim(), kv = t.numKeyValueHeads() * (double) t.headDim();
        return t.numHiddenLayers() * (h * q * 2 + h * kv * 2 + 3 * h * t.intermediateSize());
    }

    /** The tied embedding used as LM head. */
    static double lmHeadParameters(PaliGemmaConfig c) {
        return (double) c.text().vocabSize() * c.text().hiddenSize();
    }

}
