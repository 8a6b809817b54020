package org.paligemma4j.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.Generator;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.model.KvCache;
import org.paligemma4j.model.KvCachePrecision;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.model.SlidingWindowSemantics;
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

    @Mixin
    KvCacheOption kvCache;

    @Option(names = "--prompt-tokens", defaultValue = "270", description = "Prompt length including image tokens (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "16", description = "Tokens to decode (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--runs", defaultValue = "3", description = "Measured runs after one warm-up (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--batch-sizes", split = ",", paramLabel = "B,…",
            description = "Also time batched decode steps (several sequences per decoder pass) at these batch sizes, e.g. 1,2,4,8.")
    java.util.List<Integer> batchSizes = new java.util.ArrayList<>();

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
        var kvPrecision = kvCache.precision();
        ModelSource source = model.source();
        if (runs < 1 || newTokens < 1) throw new CliException("--runs and --new-tokens must be at least 1");
        for (int b : batchSizes) if (b < 1 || b > 256) throw new CliException("--batch-sizes must be between 1 and 256, got " + b);
        long t0 = System.nanoTime();
        try (PaliGemmaModel m = PaliGemmaModel.open(source, format)) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            m.setKvCachePrecision(kvPrecision);
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
            double coldVision = 0, coldPrefill = 0;
            // The machine's limits are measured after every timed run, and each run is judged against its own: on a
            // shared VM the read bandwidth moved between 27 and 66 GB/s within a minute, so limits measured once could
            // put a run above 100% of them or far below. Possible only where the bandwidth test's 1 GiB buffer can be
            // left out of the peak RSS afterwards; elsewhere they are measured once, after the runs.
            long peakRss = ProcessMemory.peakResidentBytes();
            boolean limitsPerRun = ProcessMemory.resetPeak();
            java.util.List<org.paligemma4j.tensor.FloatMatrix> matrices = m.matrices();
            double[] readGbS = new double[limitsPerRun ? runs : 1], fmaGflops = new double[readGbS.length];
            double[] computeGbS = new double[readGbS.length];
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
                    if (limitsPerRun) {
                        peakRss = Math.max(peakRss, ProcessMemory.peakResidentBytes());
                        measureLimits(matrices, readGbS, fmaGflops, computeGbS, r);
                        ProcessMemory.resetPeak();
                    }
                } else {
                    // The first pass of this process, before the JIT has compiled the kernels: what a one-shot command sees.
                    coldVision = (b - a) / 1e9;
                    coldPrefill = result.timings().prefillSeconds();
                }
            }
            double visionS = median(vision), prefillS = median(prefill), decodeS = median(decode);
            String batched = batchedDecode(m, prompt, m.encodeImage(pixels));
            // Read before any limits are measured from here: the bandwidth test streams a 1 GiB buffer of its own,
            // which the high-water mark would otherwise count as the model's.
            peakRss = Math.max(peakRss, ProcessMemory.peakResidentBytes());
            if (!limitsPerRun) measureLimits(matrices, readGbS, fmaGflops, computeGbS, 0);
            double weightsGb = m.decodeWeightBytesPerToken() / 1e9;
            double kvGb = kvCacheBytesPerStep(c, promptTokens, newTokens, kvPrecision) / 1e9;
            double visionGflop = visionFlops(c) / 1e9;
            // Prefill multiplies every layer matrix by every prompt token, but the LM head only by the last one.
            double prefillGflop = 2.0 * (layerParameters(c) * promptTokens + lmHeadParameters(c)) / 1e9;
            // Each run against the limits measured right after it (or the one measurement), then the median run.
            double[] bwFraction = new double[runs], rooflineFraction = new double[runs];
            double[] visionFraction = new double[runs], prefillFraction = new double[runs];
            for (int r = 0; r < runs; r++) {
                int l = limitsPerRun ? r : 0;
                double decodeGbS = weightsGb / decode[r];
                bwFraction[r] = decodeGbS / readGbS[l];
                rooflineFraction[r] = decodeGbS / Math.min(readGbS[l], computeGbS[l]);
                visionFraction[r] = visionGflop / vision[r] / fmaGflops[l];
                prefillFraction[r] = prefillGflop / prefill[r] / fmaGflops[l];
            }
            double read = median(readGbS), fma = median(fmaGflops), compute = median(computeGbS);
            String out = String.format(Locale.ROOT,
                    "{\"load_s\":%.3f,\"vision_s\":%.3f,\"prefill_tokens\":%d,\"prefill_tok_s\":%.2f,\"decode_tok_s\":%.3f,"
                            + "\"peak_rss_mb\":%.0f,\"threads\":%d,\"quant\":\"%s\",\"weights_gb_per_token\":%.3f,\"decode_gb_s\":%.2f,"
                            + "\"vision_gflops\":%.1f,\"prefill_gflops\":%.1f,"
                            + "\"machine_read_gb_s\":%.2f,\"machine_fma_gflops\":%.1f,\"decode_compute_gb_s\":%.2f,"
                            + "\"decode_bw_fraction\":%.3f,\"decode_roofline_fraction\":%.3f,\"vision_peak_fraction\":%.3f,"
                            + "\"prefill_peak_fraction\":%.3f,\"cold_vision_s\":%.3f,\"cold_prefill_tok_s\":%.2f,"
                            + "\"vision_s_spread\":%s,\"prefill_tok_s_spread\":%s,\"decode_tok_s_spread\":%s,\"kv_cache\":\"%s\","
                            + "\"kv_gb_per_token\":%.4f,\"machine_limits\":\"%s\",\"machine_read_gb_s_spread\":%s,"
                            + "\"machine_fma_gflops_spread\":%s,\"decode_compute_gb_s_spread\":%s,\"cpu\":\"%s\"%s}",
                    loadSeconds, visionS, promptTokens, promptTokens / prefillS, 1 / decodeS, peakRss / 1e6, Parallel.threads(),
                    quant, weightsGb, weightsGb / decodeS, visionGflop / visionS, prefillGflop / prefillS,
                    read, fma, compute, median(bwFraction), median(rooflineFraction),
                    median(visionFraction), median(prefillFraction), coldVision, promptTokens / coldPrefill,
                    spread(vision, false), spread(prefill, true, promptTokens), spread(decode, true, 1), kvPrecision.label(), kvGb,
                    limitsPerRun ? "after_each_run" : "once", spread(readGbS, false), spread(fmaGflops, false),
                    spread(computeGbS, false), Json.escape(cpuName()),
                    batched.isEmpty() ? "" : ",\"batched_decode\":[" + batched + "]");
            if (json) {
                System.out.println(out);
            } else {
                System.out.printf(Locale.ROOT, "%s (%s, %d threads, vector %d bits, %s)%n  load %.2f s | SigLIP %.2f s (%.0f GFLOPS) | "
                                + "prefill %d tok at %.1f tok/s (%.0f GFLOPS) | decode %.2f tok/s (%.1f GB/s of %.2f GB/token, and %.3f GB of %s KV cache) | "
                                + "peak RSS %.0f MB%n",
                        source.path(), quant, Parallel.threads(), jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                        Runtime.version(), loadSeconds, visionS, visionGflop / visionS, promptTokens, promptTokens / prefillS,
                        prefillGflop / prefillS, 1 / decodeS, weightsGb / decodeS, weightsGb, kvGb, kvPrecision.label(), peakRss / 1e6);
                System.out.printf(Locale.ROOT, "  machine (%s): read %.1f GB/s, FMA peak %.0f GFLOPS, decode kernel from cache %.1f GB/s | "
                                + "decode at %.0f%% of its roofline, SigLIP at %.0f%% and prefill at %.0f%% of the FMA peak | cold: SigLIP %.2f s, "
                                + "prefill %.1f tok/s%n", cpuName(), read, fma, compute,
                        100 * median(rooflineFraction), 100 * median(visionFraction),
                        100 * median(prefillFraction), coldVision, promptTokens / coldPrefill);
                if (!batched.isEmpty()) System.out.println("  batched decode: [" + batched + "]");
            }
        }
        return 0;
    }

    /** The machine's limits, measured now in this process, into entry i of each array. */
    private static void measureLimits(java.util.List<org.paligemma4j.tensor.FloatMatrix> matrices, double[] readGbS,
                                      double[] fmaGflops, double[] computeGbS, int i) {
        readGbS[i] = org.paligemma4j.tensor.MachineLimits.readBandwidthGbPerSecond();
        fmaGflops[i] = org.paligemma4j.tensor.MachineLimits.fmaPeakGflops();
        computeGbS[i] = org.paligemma4j.tensor.MachineLimits.decodeComputeGbPerSecond(matrices.getLast());
    }

    /**
     * Median time of one decode step for each of --batch-sizes sequences decoded together: the sequences continue one
     * prefilled prompt (sharing its KV cache, as beams do), so only the step itself is timed.
     */
    private String batchedDecode(PaliGemmaModel m, int[] prompt, PaliGemmaModel.ImageEmbedding image) {
        if (batchSizes.isEmpty()) return "";
        KvCache promptCache = m.newCache(prompt.length);
        float[] x = m.embedPrompt(prompt, image);
        m.decode(x, prompt.length, promptCache, prompt.length, SlidingWindowSemantics.TRANSFORMERS, null);
        java.util.List<String> rows = new java.util.ArrayList<>();
        double single = 0;
        for (int batch : batchSizes) {
            KvCache[] caches = new KvCache[batch];
            for (int b = 0; b < batch; b++) caches[b] = KvCache.sharing(promptCache, newTokens + 1);
            int[] prefixes = new int[batch], next = new int[batch];
            Arrays.fill(prefixes, prompt.length);
            double[] steps = new double[newTokens];
            for (int s = -1; s < newTokens; s++) {
                for (int b = 0; b < batch; b++) next[b] = prompt[(imageTokensOf(m) + 1 + b + Math.max(0, s)) % prompt.length];
                long a = System.nanoTime();
                float[] h = m.embedTokens(next);
                m.decodeStep(h, batch, caches, prefixes, SlidingWindowSemantics.TRANSFORMERS);
                m.stepLogits(h, batch);
                if (s >= 0) steps[s] = (System.nanoTime() - a) / 1e9;
            }
            double step = median(steps);
            if (batch == batchSizes.getFirst()) single = step / batch;
            rows.add(String.format(Locale.ROOT, "{\"batch\":%d,\"step_s\":%.4f,\"tok_s\":%.2f,\"step_vs_first\":%.2f}",
                    batch, step, batch / step, step / (single * batchSizes.getFirst())));
        }
        return String.join(",", rows);
    }

    /**
     * Bytes of keys and values one decode step reads, averaged over the timed steps: every layer reads the positions
     * it sees (a Gemma 2 sliding-window layer at most its window), keys and values, at the cache's precision.
     */
    static double kvCacheBytesPerStep(PaliGemmaConfig c, int promptTokens, int newTokens, KvCachePrecision precision) {
        var t = c.text();
        double total = 0;
        for (int step = 0; step < newTokens; step++) {
            int positions = promptTokens + step + 1;
            for (int l = 0; l < t.numHiddenLayers(); l++) {
                int seen = t.isSlidingWindowLayer(l) ? Math.min(positions, t.slidingWindow()) : positions;
                total += 2.0 * seen * t.numKeyValueHeads() * t.headDim() * precision.bytesPerElement();
            }
        }
        return total / newTokens;
    }

    /** {"min","median","max"} of seconds, or with {@code perSecond} of {@code units / seconds} (so min is the slowest). */
    private static String spread(double[] seconds, boolean perSecond, double... units) {
        double[] v = seconds.clone();
        if (perSecond) for (int i = 0; i < v.length; i++) v[i] = units[0] / v[i];
        double[] s = v.clone();
        Arrays.sort(s);
        return String.format(Locale.ROOT, "{\"min\":%.3f,\"median\":%.3f,\"max\":%.3f}", s[0], median(v), s[s.length - 1]);
    }

    /** The processor's model name (Linux), so every figure says which CPU gave it. */
    static String cpuName() {
        try (var lines = java.nio.file.Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst()
                    .orElse(System.getProperty("os.arch"));
        } catch (java.io.IOException | RuntimeException e) {
            return System.getProperty("os.arch");
        }
    }

    private static int imageTokensOf(PaliGemmaModel m) {
        return m.config().numImageTokens();
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
