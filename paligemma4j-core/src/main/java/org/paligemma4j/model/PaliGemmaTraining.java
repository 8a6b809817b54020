package org.paligemma4j.model;

import static org.paligemma4j.io.WeightNames.projector;
import static org.paligemma4j.io.WeightNames.text;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.paligemma4j.io.Checkpoint;
import org.paligemma4j.io.CheckpointException;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.io.SafetensorsWriter;
import org.paligemma4j.io.WeightNames;
import org.paligemma4j.tensor.Backward;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.Ops;
import org.paligemma4j.tensor.Parallel;

/**
 * PaliGemma for training: one teacher-forced forward pass over image + prefix + suffix and its backward
 * pass, giving the suffix loss and d loss / d θ for every trained parameter, exactly as the reference
 * (transformers' {@code PaliGemmaForConditionalGeneration} with labels) defines them:
 *
 * <pre>
 *   image → SigLIP → projector → ÷√hidden ─┐
 *   ids → embedding lookup ────────────────┴→ ×√hidden → Gemma (prefix-LM mask) → tied LM head
 *        → soft cap (Gemma 2) → cross-entropy of each suffix token, mean over the suffix
 * </pre>
 *
 * The tied embedding gets both gradients: the lookup's (rows of the prompt's words) and the LM head's
 * (every row). Trained tensors are float32 master copies (what an optimizer updates); frozen matrices
 * stay mapped as stored. Holds the mapped checkpoint, so it must be closed.
 */
public final class PaliGemmaTraining implements AutoCloseable {
    private final PaliGemmaConfig config;
    private final Checkpoint checkpoint;
    private final TrainingWeights weights;
    private final SiglipBackprop vision;
    private final TrainableLinear projector;
    private final GemmaBackprop decoder;
    private final FloatMatrix embedding; // [vocab, hidden], also the LM head
    private final Param embeddingParam; // null when frozen
    private final LoraAdapter adapter;
    private final float embedScale, imageDivisor;
    private final long modelParameters;

    private PaliGemmaTraining(PaliGemmaConfig config, Checkpoint checkpoint, Predicate<String> trainable, LoraAdapter adapter) {
        this.config = config;
        this.checkpoint = checkpoint;
        this.adapter = adapter;
        ModelWeights bound = ModelWeights.bind(checkpoint, config);
        for (String name : WeightNames.expected(config).keySet()) {
            if (bound.quantized(name) != null) {
                throw new CheckpointException(checkpoint.directory() + ": '" + name + "' is stored quantized; training needs "
                        + "the float weights (train on the original checkpoint)");
            }
        }
        if (!config.text().tieWordEmbeddings()) {
            throw new CheckpointException(checkpoint.directory() + "/config.json: tie_word_embeddings is false; training "
                    + "supports PaliGemma's tied embedding (the LM head is embed_tokens)");
        }
        weights = new TrainingWeights(bound, trainable, adapter);
        vision = new SiglipBackprop(weights, config.vision());
        projector = weights.linear(projector("weight"), projector("bias"));
        TrainingWeights.MatrixParam e = weights.matrix(text("embed_tokens.weight"));
        embedding = e.matrix();
        embeddingParam = e.param();
        decoder = new GemmaBackprop(weights, config.text());
        // As in the forward pass: the decoder multiplies every input embedding by √hidden (rounded to
        // float32), so image features are divided by √hidden first and enter the decoder unscaled.
        embedScale = (float) Math.sqrt(config.text().hiddenSize());
        imageDivisor = (float) Math.sqrt(config.text().hiddenSize());
        long count = 0;
        for (var t : checkpoint.tensors().values()) count += t.elementCount();
        modelParameters = count;
    }

    /**
     * Opens the model in {@code dir} for training. With an adapter, only its A and B are trained and the
     * whole base model is frozen; without one, every parameter is trained.
     */
    public static PaliGemmaTraining open(Path dir, LoraAdapter adapter) {
        return open(dir, adapter, name -> adapter == null);
    }

    /** Opens the model, training the base parameters whose canonical names {@code trainable} accepts (and the adapter, if any). */
    public static PaliGemmaTraining open(Path dir, LoraAdapter adapter, Predicate<String> trainable) {
        PaliGemmaConfig config = PaliGemmaConfig.load(dir);
        Checkpoint checkpoint = Checkpoint.open(dir);
        try {
            return new PaliGemmaTraining(config, checkpoint, trainable, adapter);
        } catch (RuntimeException ex) {
            checkpoint.close();
            throw ex;
        }
    }

    /** The three parts of the model, for freezing by part. */
    public enum Part {
        VISION("vision_tower."), PROJECTOR("multi_modal_projector."), DECODER("language_model.");

        private final String prefix;

        Part(String prefix) {
            this.prefix = prefix;
        }

        /** Whether the tensor of this canonical name belongs to the part (the tied embedding is the decoder's). */
        public boolean contains(String canonicalName) {
            return canonicalName.startsWith(prefix);
        }

        /** Parses "vision", "projector" or "decoder". */
        public static Part parse(String name) {
            for (Part p : values()) if (p.name().equalsIgnoreCase(name.strip())) return p;
            throw new IllegalArgumentException("unknown part '" + name + "': the parts are vision, projector and decoder");
        }
    }

    /** Trains the tensors of the given parts (everything else is frozen). */
    public static Predicate<String> parts(java.util.Set<Part> parts) {
        return name -> parts.stream().anyMatch(p -> p.contains(name));
    }

    public PaliGemmaConfig config() {
        return config;
    }

    /** The adapter being trained, or null. */
    public LoraAdapter adapter() {
        return adapter;
    }

    /** How many suffix tokens the loss of {@code ids} averages over (see {@link SuffixLoss#isTarget}). */
    public int lossTokens(int[] ids, int prefixLength) {
        return SuffixLoss.targetCount(ids, prefixLength, config.padTokenId());
    }

    /**
     * One forward and backward pass over an example: adds d loss / d θ to every trained parameter's
     * gradient and returns the loss. The loss is the sum of the suffix tokens' cross-entropies divided
     * by {@code normalizer}: the example's own {@link #lossTokens} gives its mean, and the total target
     * tokens of a mini-batch give the batch's token mean (as the reference averages a padded batch).
     *
     * @param pixelValues  {@code [3, S, S]} preprocessed image
     * @param ids          {@code <image>}×N, {@code <bos>}, prompt, {@code \n}, suffix, {@code <eos>}
     * @param prefixLength tokens up to and including the {@code \n}: they attend to each other fully
     * @param dropout      random source of LoRA dropout, or null for none (as in evaluation)
     */
    public double lossAndGradients(float[] pixelValues, int[] ids, int prefixLength, SlidingWindowSemantics semantics,
                                   int normalizer, RandomGenerator dropout) {
        return run(pixelValues, ids, prefixLength, semantics, normalizer, dropout, Gradients.OWN);
    }

    /**
     * One example of a mini-batch for {@link #lossAndGradients(List, SlidingWindowSemantics, int)}, with the
     * random source of its LoRA dropout (null for none).
     */
    public record Example(float[] pixelValues, int[] ids, int prefixLength, RandomGenerator dropout) {}

    /**
     * Models of up to this many parameters run the examples of a batch side by side, one example per
     * thread; larger ones one after another, each operation spread over the threads. A small model's
     * operations are too short to share among threads (hand-offs and waits cost more than they save), and
     * a large one's per-thread gradients and activations would take too much memory.
     */
    static final long PARALLEL_EXAMPLES_MAX_PARAMETERS = 64L << 20;
    /** Bounds the floats of the per-thread gradient buffers together (1 GiB); fewer threads run examples beyond. */
    private static final long GRADIENT_BUFFER_BUDGET_FLOATS = 256L << 20;

    /** Per-thread gradient buffers kept between batches (all zero between batches). */
    private Gradients[] buffers = new Gradients[0];

    /**
     * Forward and backward passes over a mini-batch: adds d loss / d θ of every example to the trained
     * parameters' gradients and returns the sum of the examples' losses (each as {@link #lossAndGradients(
     * float[], int[], int, SlidingWindowSemantics, int, RandomGenerator)} gives it, summed in batch order).
     *
     * <p>A small model (up to {@link #PARALLEL_EXAMPLES_MAX_PARAMETERS} parameters) runs the examples on
     * the threads at once, each single-threaded into a gradient buffer of its own; every example's
     * gradient is formed alone from zero and added to the parameters' in batch order, so the result does
     * not depend on the thread count or on which thread ran what. A larger model runs them one after
     * another straight into the parameters' gradients (again the same whatever the thread count).
     */
    public double lossAndGradients(List<Example> batch, SlidingWindowSemantics semantics, int normalizer) {
        int n = batch.size();
        if (n == 1 || modelParameters > PARALLEL_EXAMPLES_MAX_PARAMETERS) {
            // With one example, a buffer would hold the same sums and add them to zeroed gradients: skip it.
            double loss = 0;
            for (Example e : batch) {
                loss += run(e.pixelValues(), e.ids(), e.prefixLength(), semantics, normalizer, e.dropout(), Gradients.OWN);
            }
            return loss;
        }
        List<Param> params = optimizedParameters();
        long floats = Math.max(1, Gradients.floats(params));
        int workers = (int) Math.max(1, Math.min(Math.min(Parallel.threads(), n), GRADIENT_BUFFER_BUDGET_FLOATS / floats));
        if (buffers.length < workers) {
            Gradients[] more = java.util.Arrays.copyOf(buffers, workers);
            for (int w = buffers.length; w < workers; w++) more[w] = Gradients.buffersFor(params);
            buffers = more;
        }
        double[] losses = new double[n];
        AtomicInteger next = new AtomicInteger(), added = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        Gradients[] own = buffers;
        try {
            // Each worker claims examples in batch order; when its example's gradient is complete it waits
            // until every earlier example's has been added (those are being computed by running workers).
            Parallel.forEach(workers, w -> {
                int i;
                while ((i = next.getAndIncrement()) < n && !failed.get()) {
                    Example e = batch.get(i);
                    try {
                        losses[i] = run(e.pixelValues(), e.ids(), e.prefixLength(), semantics, normalizer, e.dropout(), own[w]);
                    } catch (RuntimeException | Error ex) {
                        failed.set(true);
                        throw ex;
                    }
                    for (int spins = 0; added.get() != i; spins++) {
                        if (failed.get()) return;
                        if (spins < 1 << 10) Thread.onSpinWait();
                        else Thread.yield();
                    }
                    own[w].addToOwnAndClear();
                    added.set(i + 1);
                }
            });
        } finally {
            if (failed.get()) buffers = new Gradients[0]; // left part-filled
        }
        double loss = 0;
        for (double l : losses) loss += l;
        return loss;
    }

    /**
     * The loss alone (no backward pass, no dropout): the sum of the suffix tokens' cross-entropies divided
     * by {@code normalizer}, as {@link #lossAndGradients} defines it. For validation.
     */
    public double loss(float[] pixelValues, int[] ids, int prefixLength, SlidingWindowSemantics semantics, int normalizer) {
        return run(pixelValues, ids, prefixLength, semantics, normalizer, null, null);
    }

    private double run(float[] pixelValues, int[] ids, int prefixLength, SlidingWindowSemantics semantics,
                       int normalizer, RandomGenerator dropout, Gradients grads) {
        int length = ids.length, hidden = config.text().hiddenSize(), vocab = embedding.rows();
        int imageTokens = config.numImageTokens(), visionWidth = config.vision().hiddenSize();
        if (prefixLength < 1 || prefixLength >= length) {
            throw new IllegalArgumentException("training needs 1 ≤ prefix length < sequence length, got " + prefixLength
                    + " of " + length);
        }
        if (length > config.text().maxPositionEmbeddings()) {
            throw new IllegalArgumentException("the example has " + length + " tokens, more than the model's "
                    + config.text().maxPositionEmbeddings() + " positions");
        }
        int targets = lossTokens(ids, prefixLength);
        if (targets == 0) throw new IllegalArgumentException("the example has no suffix token to learn");
        if (normalizer < 1) throw new IllegalArgumentException("normalizer must be at least 1, got " + normalizer);

        // Image: SigLIP, projector, ÷√hidden.
        float[] features = new float[imageTokens * visionWidth];
        SiglipBackprop.Activations visionActs = vision.forward(pixelValues, dropout, features);
        float[] projected = new float[imageTokens * hidden];
        TrainableLinear.LoraActivation projectorLora = projector.forward(features, imageTokens, projected, dropout);

        // Input embeddings: image features for the <image> tokens, word embeddings elsewhere, all ×√hidden.
        float[] x = new float[length * hidden];
        int imageIndex = 0;
        for (int t = 0; t < length; t++) {
            int id = ids[t];
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + vocab);
            if (id == config.imageTokenIndex()) {
                if (imageIndex >= imageTokens) {
                    throw new IllegalArgumentException("the prompt has more <image> tokens than the image provides (" + imageTokens + ")");
                }
                for (int i = 0; i < hidden; i++) {
                    float scaled = projected[imageIndex * hidden + i] / imageDivisor;
                    x[t * hidden + i] = scaled * embedScale;
                }
                imageIndex++;
            } else {
                embedding.row(id, x, t * hidden);
                for (int i = 0; i < hidden; i++) x[t * hidden + i] *= embedScale;
            }
        }
        if (imageIndex != imageTokens) {
            throw new IllegalArgumentException("the prompt has " + imageIndex + " <image> tokens but the image gives " + imageTokens);
        }

        float[] finalHidden = new float[length * hidden];
        GemmaBackprop.Activations decoderActs = decoder.forward(x, length, prefixLength, semantics, dropout, finalHidden);

        // LM head on the rows whose next token is a target: row i predicts ids[i + 1].
        int[] rows = new int[targets];
        for (int i = prefixLength - 1, n = 0; i < length - 1; i++) {
            if (SuffixLoss.isTarget(ids, i + 1, prefixLength, config.padTokenId())) rows[n++] = i;
        }
        float[] rowHidden = new float[targets * hidden];
        for (int n = 0; n < targets; n++) System.arraycopy(finalHidden, rows[n] * hidden, rowHidden, n * hidden, hidden);
        float[] logits = new float[targets * vocab];
        embedding.matmul(rowHidden, targets, logits);
        float[] beforeCap = null;
        Double finalCap = config.text().finalLogitSoftcap();
        if (finalCap != null) {
            beforeCap = logits.clone();
            Ops.softCap(logits, 0, logits.length, finalCap.floatValue());
        }
        float[] dLogits = new float[logits.length];
        double lossSum = 0;
        for (int n = 0; n < targets; n++) {
            lossSum += Backward.crossEntropy(logits, n * vocab, vocab, ids[rows[n] + 1], 1.0 / normalizer, dLogits, n * vocab);
        }
        if (grads == null) return lossSum / normalizer;
        if (finalCap != null) Backward.softCapBackward(beforeCap, dLogits, 0, dLogits.length, finalCap.floatValue());

        // Backward: the LM head's share of the tied embedding, then the decoder.
        if (embeddingParam != null) Backward.matmulWeightGrad(dLogits, rowHidden, targets, vocab, hidden, grads.of(embeddingParam));
        float[] dRowHidden = new float[rowHidden.length];
        Backward.matmulInputGrad(embedding, dLogits, targets, dRowHidden);
        float[] dFinalHidden = new float[finalHidden.length];
        for (int n = 0; n < targets; n++) System.arraycopy(dRowHidden, n * hidden, dFinalHidden, rows[n] * hidden, hidden);
        float[] dx = decoder.backward(decoderActs, dFinalHidden, grads);

        // The lookup's share of the embedding, and the image features' gradient back into the image tower.
        boolean imageGrad = projector.weightParam != null || projector.lora != null
                || (projector.bias != null && projector.bias.trainable()) || vision.anyTrainable();
        float[] dProjected = imageGrad ? new float[projected.length] : null;
        imageIndex = 0;
        for (int t = 0; t < length; t++) {
            int id = ids[t];
            boolean image = id == config.imageTokenIndex();
            for (int i = 0; i < hidden; i++) {
                double d = (double) dx[t * hidden + i] * embedScale;
                if (image && dProjected != null) dProjected[imageIndex * hidden + i] = (float) (d / imageDivisor);
                else if (!image && embeddingParam != null) grads.of(embeddingParam)[id * hidden + i] += (float) d;
            }
            if (image) imageIndex++;
        }
        if (dProjected != null) {
            boolean visionGrad = vision.anyTrainable();
            float[] dFeatures = visionGrad ? new float[features.length] : null;
            projector.backward(features, projectorLora, dProjected, imageTokens, dFeatures, grads);
            if (visionGrad) vision.backward(visionActs, dFeatures, grads);
        }
        return lossSum / normalizer;
    }

    /** Every trained base-model parameter by canonical name (empty when only an adapter is trained). */
    public Map<String, Param> trainedParameters() {
        return weights.trained();
    }

    /** Every parameter an optimizer updates: the trained base parameters, then the adapter's A and B. */
    public List<Param> optimizedParameters() {
        List<Param> out = new ArrayList<>(weights.trained().values());
        if (adapter != null) out.addAll(adapter.parameters());
        return out;
    }

    /** Sets every gradient to zero (before a new step). */
    public void zeroGradients() {
        for (Param p : optimizedParameters()) p.zeroGrad();
    }

    /**
     * The trained base parameters' gradients as a safetensors file (float32), each under the tensor name
     * the checkpoint itself uses (its own key layout, old or new transformers).
     */
    public void writeGradients(Path file) throws IOException {
        Map<String, String> stored = new LinkedHashMap<>();
        for (String key : checkpoint.tensors().keySet()) stored.putIfAbsent(WeightNames.canonical(key), key);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Param p : weights.trained().values()) {
            entries.add(new SafetensorsWriter.Entry(stored.getOrDefault(p.name(), p.name()), DType.F32, p.shape(),
                    SafetensorsWriter.Content.ofFloats(p.grad())));
        }
        SafetensorsWriter.write(file, entries, Map.of("format", "pt"));
    }

    /**
     * Files a training run writes beside its model (the log, as JSON lines and CSV, the loss curve, per-checkpoint
     * metrics). A model trained from an earlier run's output directory must not get that run's copies: they would
     * replace this run's own.
     */
    private static final java.util.Set<String> RUN_OUTPUTS = java.util.Set.of("training_log.jsonl", "training_log.csv",
            "loss_curve.png", "metrics.jsonl");

    /**
     * Writes the model with its trained tensors into {@code dir} as a Hugging Face checkpoint: every file of
     * the original directory but the weights and an earlier run's outputs ({@link #RUN_OUTPUTS}), and one
     * {@code model.safetensors} with every tensor under its original name, the trained ones as float32 master
     * values, the frozen ones as stored. An adapter is not folded in (see {@code merge-adapter}).
     */
    public void saveModel(Path dir) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        try (var files = java.nio.file.Files.list(checkpoint.directory())) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!java.nio.file.Files.isRegularFile(f) || name.endsWith(".safetensors") || name.equals(Checkpoint.INDEX_FILE)
                        || RUN_OUTPUTS.contains(name)) {
                    continue;
                }
                java.nio.file.Files.copy(f, dir.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Map<String, Param> trained = weights.trained();
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (var e : checkpoint.tensors().entrySet()) {
            Param p = trained.get(WeightNames.canonical(e.getKey()));
            var t = e.getValue();
            entries.add(p != null
                    ? new SafetensorsWriter.Entry(e.getKey(), DType.F32, t.shape(), SafetensorsWriter.Content.ofFloats(p.value()))
                    : new SafetensorsWriter.Entry(e.getKey(), t.dtype(), t.shape(), SafetensorsWriter.Content.copyOf(t.data())));
        }
        SafetensorsWriter.write(dir.resolve(Checkpoint.SINGLE_FILE), entries, Map.of("format", "pt"));
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
