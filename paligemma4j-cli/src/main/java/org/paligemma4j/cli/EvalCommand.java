package org.paligemma4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.engine.Engine;
import org.paligemma4j.engine.EngineOptions;
import org.paligemma4j.engine.GenerationRequest;
import org.paligemma4j.engine.QueueFullException;
import org.paligemma4j.eval.TeacherForcing;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.tensor.Ops;
import org.paligemma4j.tensor.WeightFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Score a model on a JSON Lines data set in the fine-tuning layout, one example a line: "
                + "{\"image\": \"dog.jpg\", \"prefix\": \"caption en\", \"suffix\": \"a dog on a sofa\"} (\"suffix\" may be a list of "
                + "references; \"answers\": [...] gives VQA's human answers). Every example is generated greedily through the "
                + "batched engine, and one JSON object is printed: {\"examples\": N, \"metrics\": {...}, \"generation_seconds\": S, ...}.",
                "Metrics: exact (exact match), vqa (VQAv2 accuracy), anls (ANLS, DocVQA/TextVQA), cider (COCO CIDEr-D), "
                + "detection (precision/recall at IoU 0.5 and box IoU; targets are <loc> strings), segmentation (mask mIoU and "
                + "cIoU; targets carry <seg> tokens; needs --vae)."},
        footer = {"", "Examples:",
                "  paligemma eval --model paligemma-3b-ft-cococap-224 --data test.jsonl --metric cider",
                "  paligemma eval --model my-vqa-model --data vqa.jsonl --metric vqa,exact --compare-quant q4"})
final class EvalCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "Apply a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) to the model.")
    Path adapter;

    @Option(names = "--data", required = true, paramLabel = "FILE.jsonl",
            description = "Examples, one JSON object a line: image (absolute or relative to the file's folder), prefix, suffix or answers.")
    Path data;

    @Option(names = "--metric", required = true, split = ",", paramLabel = "NAME",
            description = "exact, vqa, anls, cider, detection, segmentation (comma-separated).")
    List<String> metricNames;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64",
            description = "Most tokens to generate per example (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--quant", paramLabel = "none|q8|q4", defaultValue = "none",
            description = "Weight format to evaluate in (default: ${DEFAULT-VALUE}).")
    String quant;

    @Option(names = "--compare-quant", paramLabel = "q8|q4",
            description = "Also run the model quantized: report the top-1 agreement with the unquantized model over its generated"
                    + " tokens (teacher-forced) and each metric's change.")
    String compareQuant;

    @Option(names = "--limit", paramLabel = "N", description = "Use only the first N examples.")
    Integer limit;

    @Option(names = "--predictions", paramLabel = "FILE.jsonl", description = "Write each example's prediction and scores, one JSON line each.")
    Path predictionsFile;

    @Option(names = "--vae", paramLabel = "NPZ", defaultValue = "${env:PALIGEMMA_VAE}",
            description = "big_vision's mask VQ-VAE (vae-oid.npz) for the segmentation metric (default: $PALIGEMMA_VAE).")
    Path vae;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "8", description = "Sequences decoded together (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--verbose", description = "Print loading and generation progress and a timing line per model to stderr.")
    boolean verbose;

    /** One model's run over the data: each example's result and image size, and the wall time. */
    private record Run(List<GenerationResult> results, int[][] sizes, double seconds) {
        List<String> texts() {
            return results.stream().map(GenerationResult::text).toList();
        }

        long tokens() {
            return results.stream().mapToLong(r -> r.ids().length).sum();
        }
    }

    @Override
    public Integer call() throws IOException {
        Set<String> metrics;
        try {
            metrics = EvalMetrics.parse(metricNames);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        if (maxNewTokens < 1) throw usage("--max-new-tokens must be positive, got " + maxNewTokens);
        if (maxBatch < 1) throw usage("--max-batch must be at least 1, got " + maxBatch);
        if (limit != null && limit < 1) throw usage("--limit must be at least 1, got " + limit);
        WeightFormat format = format("--quant", quant);
        WeightFormat compareFormat = compareQuant == null ? null : format("--compare-quant", compareQuant);
        if (compareFormat == WeightFormat.AS_STORED) throw usage("--compare-quant must be q8 or q4");
        if (compareFormat != null && format != WeightFormat.AS_STORED) {
            throw usage("--compare-quant compares the unquantized model with a quantized one: leave out --quant");
        }
        if (metrics.contains("segmentation") && vae == null) {
            throw usage("the segmentation metric decodes masks with big_vision's mask VQ-VAE: pass --vae vae-oid.npz (or set PALIGEMMA_VAE)");
        }
        if (predictionsFile != null) {
            Path folder = predictionsFile.toAbsolutePath().getParent();
            if (folder != null && !Files.isDirectory(folder)) throw new CliException(predictionsFile + ": folder " + folder + " does not exist");
        }
        Path dir = model.resolve();
        List<EvalData.Example> examples = EvalData.read(data, limit);
        EvalMetrics scorer = new EvalMetrics(metrics, vae == null || !metrics.contains("segmentation") ? null : MaskDecoder.load(vae));
        scorer.checkTargets(data, examples);
        GenerationOptions options = GenerationOptions.defaults().withMaxNewTokens(maxNewTokens).withSlidingWindow(model.semantics());

        ObjectNode out = JsonNodeFactory.instance.objectNode();
        Run base;
        EvalMetrics.Scores scores;
        Run quantized = null;
        EvalMetrics.Scores quantizedScores = null;
        int[] agreeing = null;
        try (PaliGemma pg = ModelLoading.open(dir, adapter, verbose, format)) {
            base = generate(pg, examples, options);
            scores = scorer.score(examples, base.texts(), base.sizes());
            out.put("examples", examples.size());
            out.put("quant", format.cliName());
            out.set("metrics", scores.corpus());
            out.put("generation_seconds", base.seconds());
            out.put("generated_tokens", base.tokens());
            if (compareFormat != null) {
                ObjectNode compare = out.putObject("compare_quant");
                long positions = base.tokens();
                long agreed = 0;
                LogitError error = new LogitError();
                // Both models stay open: the logit error compares their logits position by position along the
                // unquantized model's own output (teacher-forced), without keeping vocabulary-wide rows around.
                try (PaliGemma q = ModelLoading.open(dir, adapter, verbose, compareFormat)) {
                    quantized = generate(q, examples, options);
                    agreeing = new int[examples.size()];
                    int vocab = q.model().vocabSize();
                    for (int i = 0; i < examples.size(); i++) {
                        int[] ids = base.results().get(i).ids();
                        List<RgbImage> images = List.of(load(examples.get(i)));
                        String prefix = examples.get(i).prefix();
                        float[] reference = TeacherForcing.logits(pg, images, prefix, ids, options.slidingWindow());
                        float[] logits = TeacherForcing.logits(q, images, prefix, ids, options.slidingWindow());
                        for (int t = 0; t < ids.length; t++) {
                            if (Ops.argmax(logits, t * vocab, (t + 1) * vocab) == ids[t]) agreeing[i]++;
                        }
                        error.add(reference, logits);
                        agreed += agreeing[i];
                    }
                }
                quantizedScores = scorer.score(examples, quantized.texts(), quantized.sizes());
                compare.put("quant", compareFormat.cliName());
                if (positions == 0) compare.putNull("top1_agreement");
                else compare.put("top1_agreement", (double) agreed / positions);
                compare.put("positions", positions);
                error.report(compare);
                compare.set("metrics", quantizedScores.corpus());
                compare.set("change", EvalMetrics.change(scores.corpus(), quantizedScores.corpus()));
                compare.put("generation_seconds", quantized.seconds());
                compare.put("generated_tokens", quantized.tokens());
            }
        }
        if (predictionsFile != null) writePredictions(examples, base, scores, quantized, quantizedScores, agreeing);
        System.out.println(JSON.writeValueAsString(out));
        return 0;
    }

    /**
     * How far the quantized model's logits are from the unquantized one's over the compared positions: the root
     * mean square of the difference (over every vocabulary entry), that relative to the unquantized logits' own
     * root mean square, and the largest absolute difference.
     */
    private static final class LogitError {
        private double squaredError, squaredReference, maxAbs;
        private long values;

        void add(float[] reference, float[] logits) {
            for (int i = 0; i < reference.length; i++) {
                double d = (double) logits[i] - reference[i];
                squaredError += d * d;
                squaredReference += (double) reference[i] * reference[i];
                maxAbs = Math.max(maxAbs, Math.abs(d));
            }
            values += reference.length;
        }

        void report(ObjectNode o) {
            if (values == 0) {
                o.putNull("logit_rms_error");
                o.putNull("logit_relative_rms_error");
                o.putNull("logit_max_abs_error");
                return;
            }
            o.put("logit_rms_error", Math.sqrt(squaredError / values));
            o.put("logit_relative_rms_error", squaredReference == 0 ? 0 : Math.sqrt(squaredError / squaredReference));
            o.put("logit_max_abs_error", maxAbs);
        }
    }

    /** Every example through the batched engine, results in the examples' order. */
    private Run generate(PaliGemma pg, List<EvalData.Example> examples, GenerationOptions options) {
        long t0 = System.nanoTime();
        int[][] sizes = new int[examples.size()][];
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>(examples.size());
        AtomicInteger finished = new AtomicInteger();
        int step = Math.max(1, examples.size() / 10);
        try (Engine engine = Engine.start(pg, EngineOptions.defaults().withMaxBatch(maxBatch).withMaxQueue(2 * maxBatch))) {
            for (int i = 0; i < examples.size(); i++) {
                EvalData.Example e = examples.get(i);
                RgbImage image = load(e);
                sizes[i] = new int[] {image.width(), image.height()};
                GenerationRequest request = new GenerationRequest(List.of(image), e.prefix(), options);
                CompletableFuture<GenerationResult> future = submit(engine, request, e);
                if (verbose) {
                    future.whenComplete((result, failure) -> {
                        int n = finished.incrementAndGet();
                        if (n % step == 0 || n == examples.size()) {
                            System.err.printf(Locale.ROOT, "%d of %d examples generated (%.1f s)%n", n, examples.size(), (System.nanoTime() - t0) / 1e9);
                        }
                    });
                }
                futures.add(future);
            }
            List<GenerationResult> results = new ArrayList<>(examples.size());
            for (int i = 0; i < futures.size(); i++) {
                try {
                    results.add(futures.get(i).join());
                } catch (CompletionException failure) {
                    Throwable cause = failure.getCause() == null ? failure : failure.getCause();
                    throw new CliException(where(examples.get(i)) + cause.getMessage());
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            Run run = new Run(results, sizes, seconds);
            if (verbose) {
                System.err.printf(Locale.ROOT, "%s: %d examples in %.2f s, %d tokens generated (%.1f tok/s)%n", pg.model().weightFormat().cliName(),
                        examples.size(), seconds, run.tokens(), run.tokens() / seconds);
            }
            return run;
        }
    }

    private CompletableFuture<GenerationResult> submit(Engine engine, GenerationRequest request, EvalData.Example e) {
        while (true) {
            try {
                return engine.submit(request, null).result();
            } catch (QueueFullException busy) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new CliException("interrupted");
                }
            } catch (IllegalArgumentException bad) {
                throw new CliException(where(e) + bad.getMessage());
            }
        }
    }

    private RgbImage load(EvalData.Example e) {
        try {
            return ImageLoader.load(e.image());
        } catch (IOException | RuntimeException bad) {
            throw new CliException(where(e) + bad.getMessage());
        }
    }

    private String where(EvalData.Example e) {
        return data + ": line " + e.line() + ": ";
    }

    private void writePredictions(List<EvalData.Example> examples, Run base, EvalMetrics.Scores scores, Run quantized,
                                  EvalMetrics.Scores quantizedScores, int[] agreeing) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(predictionsFile, StandardCharsets.UTF_8)) {
            for (int i = 0; i < examples.size(); i++) {
                EvalData.Example e = examples.get(i);
                ObjectNode o = JsonNodeFactory.instance.objectNode();
                o.put("line", e.line());
                o.put("image", e.image().toString());
                o.put("prefix", e.prefix());
                o.put("prediction", base.results().get(i).text());
                o.put("generated_tokens", base.results().get(i).ids().length);
                ArrayNode refs = o.putArray("references");
                e.references().forEach(refs::add);
                o.set("scores", scores.perExample().get(i));
                if (quantized != null) {
                    o.put("quantized_prediction", quantized.results().get(i).text());
                    o.set("quantized_scores", quantizedScores.perExample().get(i));
                    int positions = base.results().get(i).ids().length;
                    if (positions == 0) o.putNull("top1_agreement");
                    else o.put("top1_agreement", (double) agreeing[i] / positions);
                }
                w.write(JSON.writeValueAsString(o));
                w.newLine();
            }
        }
    }

    private WeightFormat format(String option, String name) {
        try {
            return WeightFormat.parse(name);
        } catch (IllegalArgumentException e) {
            throw usage(option + ": " + e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
