package org.paligemma4j.cli;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.model.LoraAdapter;
import org.paligemma4j.model.PaliGemmaTraining;
import org.paligemma4j.train.AdamW;
import org.paligemma4j.train.LearningRateSchedule;
import org.paligemma4j.train.Trainer;
import org.paligemma4j.train.TrainingCheckpoint;
import org.paligemma4j.train.TrainingData;
import org.paligemma4j.train.TrainingExample;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune on the examples of a JSONL file, {\"image\": \"photos/dog.jpg\", \"prefix\": \"caption en\", \"suffix\": \"a dog\"}",
                "per line (image paths absolute or relative to the file's folder). With --lora-init ADAPTER, train that LoRA adapter's A and",
                "B (the model stays frozen) and write the adapter in PEFT's format to --out; with --full, train the parts named by --train",
                "(float32 master weights, the rest frozen as stored) and write the whole model to --out. Each step prints its loss; --out",
                "also gets training_log.jsonl (with the same as training_log.csv and the loss curve as loss_curve.png), and with --save-every N a resumable checkpoint-STEP folder every N steps (--resume DIR)."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--data", required = true, paramLabel = "FILE.jsonl", description = "Training examples, one JSON object per line.")
    Path data;

    @Option(names = "--lora-init", paramLabel = "ADAPTER_DIR",
            description = "The PEFT LoRA adapter to start from (adapter_config.json + adapter_model.safetensors).")
    Path loraInit;

    @Option(names = "--lora", paramLabel = "r=R,alpha=A[,dropout=P][,targets=REGEX]",
            description = "Train a new LoRA adapter of rank R with lora_alpha A (scaling A/R), PEFT's initialisation (A uniform, B zero); "
                    + "targets is PEFT's full-match regex over module paths (default: every attention and MLP projection of the decoder; "
                    + "it must come last).")
    String loraSpec;

    @Option(names = "--full", description = "Train the model's own weights (the parts in --train) instead of an adapter.")
    boolean full;

    @Option(names = "--train", paramLabel = "PARTS", defaultValue = "vision,projector,decoder", split = ",",
            description = "With --full: the parts to train, from vision, projector, decoder (default: all of them).")
    List<String> trainParts;

    @Option(names = "--save-every", paramLabel = "N", defaultValue = "0",
            description = "Write a resumable checkpoint to --out/checkpoint-STEP every N steps (default: 0, never).")
    int saveEvery;

    @Option(names = "--resume", paramLabel = "CHECKPOINT_DIR",
            description = "Continue the run saved in a checkpoint-STEP folder, with the same data and options.")
    Path resume;

    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adamw", description = "adamw (default; torch.optim.AdamW).")
    String optimizer;

    @Option(names = "--lr", required = true, paramLabel = "LR", description = "Peak learning rate.")
    double lr;

    @Option(names = "--weight-decay", paramLabel = "WD", defaultValue = "0.01",
            description = "Decoupled weight decay (default: ${DEFAULT-VALUE}, torch's).")
    double weightDecay;

    @Option(names = "--betas", paramLabel = "B1,B2", defaultValue = "0.9,0.999", description = "AdamW betas (default: ${DEFAULT-VALUE}).")
    String betas;

    @Option(names = "--eps", paramLabel = "EPS", defaultValue = "1e-8", description = "AdamW epsilon (default: ${DEFAULT-VALUE}).")
    double eps;

    @Option(names = "--schedule", paramLabel = "NAME", defaultValue = "constant",
            description = "Learning-rate schedule after the warm-up: constant (default), linear or cosine (decay to 0 at the last step).")
    String schedule;

    @Option(names = "--warmup-steps", paramLabel = "N", defaultValue = "0", description = "Linear warm-up from 0 over N steps (default: 0).")
    int warmupSteps;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "1", description = "Examples per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--steps", required = true, paramLabel = "N", description = "Optimizer steps.")
    int steps;

    @Option(names = "--no-shuffle", description = "Take the examples in file order (default: shuffled every epoch with --seed).")
    boolean noShuffle;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the shuffling and the LoRA dropout (default: 0).")
    long seed;

    @Option(names = "--max-grad-norm", paramLabel = "NORM", defaultValue = "0",
            description = "Clip the gradients' global L2 norm to NORM (default: 0, no clipping).")
    double maxGradNorm;

    @Option(names = "--val", paramLabel = "FILE.jsonl", description = "Validation examples: their loss is reported every --val-every steps and at the end.")
    Path val;

    @Option(names = "--val-every", paramLabel = "N", defaultValue = "0",
            description = "Steps between validation losses (default: 0, only at the end).")
    int valEvery;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the trained adapter (created if missing).")
    Path out;

    @Override
    public Integer call() throws IOException {
        Path dir = model.resolve();
        if (!optimizer.equals("adamw")) throw new CliException("--optimizer must be adamw, not '" + optimizer + "'");
        if (!(lr > 0) || Double.isInfinite(lr)) throw new CliException("--lr must be positive, got " + lr);
        if (steps < 1) throw new CliException("--steps must be at least 1, got " + steps);
        if (batchSize < 1) throw new CliException("--batch-size must be at least 1, got " + batchSize);
        if (warmupSteps < 0) throw new CliException("--warmup-steps must be ≥ 0, got " + warmupSteps);
        if (!(weightDecay >= 0)) throw new CliException("--weight-decay must be ≥ 0, got " + weightDecay);
        if (!(eps >= 0)) throw new CliException("--eps must be ≥ 0, got " + eps);
        if (!(maxGradNorm >= 0)) throw new CliException("--max-grad-norm must be ≥ 0, got " + maxGradNorm);
        double[] b = parseBetas(betas);
        LearningRateSchedule.Shape shape = switch (schedule) {
            case "constant" -> LearningRateSchedule.Shape.CONSTANT;
            case "linear" -> LearningRateSchedule.Shape.LINEAR;
            case "cosine" -> LearningRateSchedule.Shape.COSINE;
            default -> throw new CliException("--schedule must be constant, linear or cosine, not '" + schedule + "'");
        };
        if (saveEvery < 0) throw new CliException("--save-every must be ≥ 0, got " + saveEvery);
        int modes = (full ? 1 : 0) + (loraInit != null ? 1 : 0) + (loraSpec != null ? 1 : 0);
        if (modes > 1) throw new CliException("--full, --lora and --lora-init exclude each other");
        if (modes == 0 && resume == null) throw new CliException("pass --lora r=8,alpha=16 (a new adapter), --lora-init ADAPTER_DIR or --full");
        Set<PaliGemmaTraining.Part> parts = EnumSet.noneOf(PaliGemmaTraining.Part.class);
        for (String part : trainParts) {
            try {
                parts.add(PaliGemmaTraining.Part.parse(part));
            } catch (IllegalArgumentException e) {
                throw new CliException("--train: " + e.getMessage());
            }
        }
        if (out.toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize())) {
            throw new CliException("--out must not be the model directory (its weights are read while training)");
        }
        if (java.nio.file.Files.exists(out) && !java.nio.file.Files.isDirectory(out)) {
            throw new CliException(out + ": --out exists and is not a directory");
        }
        if (valEvery < 0) throw new CliException("--val-every must be ≥ 0, got " + valEvery);
        List<TrainingExample> examples = TrainingData.read(data);
        List<TrainingExample> validation = val == null ? null : TrainingData.read(val);
        try (PaliGemma pg = ModelLoading.open(dir, false)) {
            // A LoRA run resumes from the checkpoint folder, which holds the adapter in PEFT's layout.
            Path adapterDir = full ? null : resume != null && loraInit == null ? resume : loraInit;
            LoraAdapter adapter = adapterDir != null ? LoraAdapter.load(adapterDir, pg.model().config())
                    : loraSpec != null ? newAdapter(pg, dir) : null;
            try (PaliGemmaTraining training = adapter != null ? PaliGemmaTraining.open(dir, adapter)
                    : PaliGemmaTraining.open(dir, null, PaliGemmaTraining.parts(parts))) {
                AdamW adamW = new AdamW(training.optimizedParameters(), b[0], b[1], eps, weightDecay);
                var options = new Trainer.Options(steps, batchSize, !noShuffle, seed, maxGradNorm, model.semantics());
                int first = resume == null ? 0 : TrainingCheckpoint.restore(resume, adamW, options);
                if (first > steps) throw new CliException(resume + " is at step " + first + ", past --steps " + steps);
                Trainer trainer = new Trainer(pg, training, adamW, new LearningRateSchedule(shape, lr, warmupSteps, steps), examples, options);
                Files.createDirectories(out);
                try (Writer log = Files.newBufferedWriter(out.resolve("training_log.jsonl"), StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, first == 0 ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND)) {
                    double[] elapsed = {0};
                    trainer.run(first, r -> {
                        elapsed[0] += r.seconds();
                        double perStep = elapsed[0] / (r.step() - first);
                        System.out.printf(Locale.ROOT, "step %d/%d  loss %.6f  lr %.3g  grad norm %.4g  %.2f s  %.0f tokens/s  ETA %s%n",
                                r.step(), r.steps(), r.loss(), r.learningRate(), r.gradNorm(), r.seconds(),
                                r.sequenceTokens() / Math.max(1e-9, r.seconds()), duration(perStep * (r.steps() - r.step())));
                        log.write(String.format(Locale.ROOT,
                                "{\"step\":%d,\"loss\":%s,\"lr\":%s,\"grad_norm\":%s,\"loss_tokens\":%d,\"tokens\":%d,\"seconds\":%.4f}%n",
                                r.step(), r.loss(), r.learningRate(), r.gradNorm(), r.tokens(), r.sequenceTokens(), r.seconds()));
                        log.flush();
                        if (validation != null && (r.step() == r.steps() || valEvery > 0 && r.step() % valEvery == 0)) {
                            double v = trainer.validationLoss(validation);
                            System.out.printf(Locale.ROOT, "step %d/%d  validation loss %.6f over %d examples%n", r.step(), r.steps(), v,
                                    validation.size());
                            log.write(String.format(Locale.ROOT, "{\"step\":%d,\"val_loss\":%s}%n", r.step(), v));
                            log.flush();
                        }
                        if (saveEvery > 0 && r.step() % saveEvery == 0 && r.step() < r.steps()) {
                            Path checkpoint = out.resolve("checkpoint-" + r.step());
                            TrainingCheckpoint.save(checkpoint, adamW, options, r.step());
                            if (adapter != null) adapter.save(checkpoint);
                        }
                    });
                }
                TrainingLogReport.write(out);
                if (adapter != null) adapter.save(out);
                else training.saveModel(out);
                System.out.println("wrote the " + (adapter != null ? "adapter" : "model") + " after " + steps + " steps to " + out);
            }
        }
        return 0;
    }

    /** The adapter --lora describes, initialised from --seed. */
    private LoraAdapter newAdapter(PaliGemma pg, Path dir) {
        Integer rank = null;
        Double alpha = null;
        double dropout = 0;
        String targets = LoraAdapter.DECODER_TARGETS;
        String rest = loraSpec.strip();
        while (!rest.isEmpty()) {
            int eq = rest.indexOf('=');
            if (eq < 0) throw new CliException("--lora: expected key=value, got '" + rest + "'");
            String key = rest.substring(0, eq).strip();
            if (key.equals("targets")) { // a regex may contain commas: it takes the rest
                targets = rest.substring(eq + 1).strip();
                break;
            }
            int comma = rest.indexOf(',', eq);
            String value = (comma < 0 ? rest.substring(eq + 1) : rest.substring(eq + 1, comma)).strip();
            rest = comma < 0 ? "" : rest.substring(comma + 1).strip();
            try {
                switch (key) {
                    case "r" -> rank = Integer.parseInt(value);
                    case "alpha" -> alpha = Double.parseDouble(value);
                    case "dropout" -> dropout = Double.parseDouble(value);
                    default -> throw new CliException("--lora: unknown key '" + key + "' (use r, alpha, dropout, targets)");
                }
            } catch (NumberFormatException e) {
                throw new CliException("--lora: " + key + " must be a number, got '" + value + "'");
            }
        }
        if (rank == null) throw new CliException("--lora needs r=RANK");
        if (alpha == null) alpha = 8.0; // PEFT's default lora_alpha
        try {
            return LoraAdapter.create(pg.model().config(), dir.getFileName().toString(), rank, alpha, dropout, targets, seed);
        } catch (IllegalArgumentException e) {
            throw new CliException("--lora: " + e.getMessage());
        }
    }

    /** 75 → "1:15", 3700 → "1:01:40". */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    static double[] parseBetas(String text) {
        String[] parts = text.split(",");
        if (parts.length != 2) throw new CliException("--betas must be two numbers B1,B2, got '" + text + "'");
        double[] b = new double[2];
        for (int i = 0; i < 2; i++) {
            try {
                b[i] = Double.parseDouble(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new CliException("--betas must be two numbers B1,B2, got '" + text + "'");
            }
            if (!(b[i] >= 0 && b[i] < 1)) throw new CliException("--betas must each be in [0, 1), got '" + text + "'");
        }
        return b;
    }
}
