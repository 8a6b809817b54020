package org.paligemma4j.train;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.Prompt;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.model.PaliGemmaTraining;
import org.paligemma4j.model.Param;
import org.paligemma4j.model.SlidingWindowSemantics;

/**
 * The fine-tuning loop: mini-batches of examples (in file order, or shuffled with a seed every epoch),
 * one forward and backward pass per example with the batch's loss the mean over all its suffix tokens,
 * optional clipping of the gradients' global norm, and one optimizer step per batch.
 */
public final class Trainer {
    /**
     * @param maxGradNorm clip the gradients' global L2 norm to this (as torch's clip_grad_norm_), or 0 for no clipping
     * @param seed        seeds the shuffling and the LoRA dropout
     */
    public record Options(int steps, int batchSize, boolean shuffle, long seed, double maxGradNorm,
                          SlidingWindowSemantics semantics) {
        public Options {
            if (steps < 1) throw new IllegalArgumentException("steps must be at least 1, got " + steps);
            if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
            if (!(maxGradNorm >= 0)) throw new IllegalArgumentException("max gradient norm must be ≥ 0, got " + maxGradNorm);
        }
    }

    /**
     * What one optimizer step did.
     *
     * @param tokens         suffix tokens the loss averaged over
     * @param sequenceTokens every token the step's forward passes ran (image, prompt and suffix)
     */
    public record StepReport(int step, int steps, double loss, double learningRate, double gradNorm, int tokens,
                             int sequenceTokens, double seconds) {}

    /** Receives a report after every step. */
    @FunctionalInterface
    public interface Progress {
        void stepDone(StepReport report) throws IOException;
    }

    private final PaliGemma pipeline;
    private final PaliGemmaTraining model;
    private final AdamW optimizer;
    private final LearningRateSchedule schedule;
    private final List<TrainingExample> data;
    private final Options options;

    /**
     * @param pipeline the tokenizer and image preprocessing of the model (its inference weights are not used)
     */
    public Trainer(PaliGemma pipeline, PaliGemmaTraining model, AdamW optimizer, LearningRateSchedule schedule,
                   List<TrainingExample> data, Options options) {
        if (data.isEmpty()) throw new IllegalArgumentException("no training examples");
        this.pipeline = pipeline;
        this.model = model;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.data = List.copyOf(data);
        this.options = options;
    }

    /**
     * Runs steps {@code firstStep + 1 … options.steps()} (firstStep 0 for a fresh run; a resumed run passes
     * the steps already taken). Which examples a step takes and its dropout draws depend only on the seed
     * and the step number, so a run resumed from a checkpoint continues exactly as if never interrupted.
     */
    public void run(int firstStep, Progress progress) throws IOException {
        if (firstStep < 0 || firstStep > options.steps()) {
            throw new IllegalArgumentException("cannot start at step " + firstStep + " of " + options.steps());
        }
        for (int step = firstStep; step < options.steps(); step++) {
            long t0 = System.nanoTime();
            List<Prepared> prepared = new ArrayList<>();
            int tokens = 0, sequenceTokens = 0;
            for (int i = 0; i < options.batchSize(); i++) {
                long position = (long) step * options.batchSize() + i;
                Prepared p = prepare(data.get(exampleAt(position)));
                prepared.add(p);
                tokens += model.lossTokens(p.prompt.ids(), p.prompt.prefixLength());
                sequenceTokens += p.prompt.ids().length;
            }
            SplittableRandom dropout = new SplittableRandom(options.seed() * 0x9E3779B97F4A7C15L + step);
            model.zeroGradients();
            List<PaliGemmaTraining.Example> batch = new ArrayList<>();
            for (Prepared p : prepared) {
                batch.add(new PaliGemmaTraining.Example(p.pixels, p.prompt.ids(), p.prompt.prefixLength(), dropout.split()));
            }
            double loss = model.lossAndGradients(batch, options.semantics(), tokens);
            double norm = clipGradients(optimizer.parameters(), options.maxGradNorm());
            double lr = schedule.at(step);
            optimizer.step(lr);
            progress.stepDone(new StepReport(step + 1, options.steps(), loss, lr, norm, tokens, sequenceTokens,
                    (System.nanoTime() - t0) / 1e9));
        }
    }

    /**
     * The loss over a validation set: every suffix token's cross-entropy, averaged over all of the set's
     * tokens (forward passes only; nothing is trained).
     */
    public double validationLoss(List<TrainingExample> examples) throws IOException {
        double sum = 0;
        long tokens = 0;
        for (TrainingExample e : examples) {
            Prepared p = prepare(e);
            int n = model.lossTokens(p.prompt.ids(), p.prompt.prefixLength());
            sum += n * model.loss(p.pixels, p.prompt.ids(), p.prompt.prefixLength(), options.semantics(), n);
            tokens += n;
        }
        return sum / tokens;
    }

    private int epochOfOrder = -1;
    private int[] order;

    /**
     * The index of the example at {@code position} of the stream of examples: epoch after epoch over the
     * data, in file order or, when shuffling, in a permutation drawn from the seed and the epoch number.
     */
    int exampleAt(long position) {
        int n = data.size();
        int epoch = (int) (position / n), offset = (int) (position % n);
        if (!options.shuffle()) return offset;
        if (epoch != epochOfOrder) {
            List<Integer> list = new ArrayList<>();
            for (int i = 0; i < n; i++) list.add(i);
            Collections.shuffle(list, new Random(options.seed() * 31 + epoch));
            order = list.stream().mapToInt(Integer::intValue).toArray();
            epochOfOrder = epoch;
        }
        return order[offset];
    }

    private record Prepared(float[] pixels, Prompt prompt) {}

    private Prepared prepare(TrainingExample e) throws IOException {
        try {
            float[] pixels = pipeline.preprocessor().pixelValues(ImageLoader.load(e.image()));
            Prompt prompt = pipeline.prompt(e.prefix(), e.suffix());
            pipeline.checkLength(prompt.ids().length, 0);
            return new Prepared(pixels, prompt);
        } catch (IOException | IllegalArgumentException ex) {
            throw new IOException("example on line " + e.line() + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * The gradients' global L2 norm; with {@code maxNorm > 0} and a larger norm, every gradient is scaled
     * by {@code maxNorm / (norm + 1e-6)} as torch.nn.utils.clip_grad_norm_ does.
     */
    static double clipGradients(List<Param> params, double maxNorm) {
        double sumSq = 0;
        for (Param p : params) for (float g : p.grad()) sumSq += (double) g * g;
        double norm = Math.sqrt(sumSq);
        if (maxNorm > 0) {
            double coefficient = maxNorm / (norm + 1e-6);
            if (coefficient < 1) {
                for (Param p : params) {
                    float[] g = p.grad();
                    for (int i = 0; i < g.length; i++) g[i] = (float) (g[i] * coefficient);
                }
            }
        }
        return norm;
    }
}
