package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.TrainingCase;

/** Whole training runs through the CLI: overfitting 16 examples, resuming bit for bit, freezing by part. */
class FineTuningRunTest {
    @TempDir
    Path out;

    static final String[] IMAGES = {"photo_like.jpg", "shapes_text.png", "tiny_gray.png"};
    static final String[] WORDS = {"red", "blue", "green", "cat", "dog", "house", "tree", "car", "boat", "sun", "moon", "star",
            "bird", "fish", "road", "sky"};

    /** Example i: one of the three fixture images, prefix "caption en i", a two-word suffix. */
    static String suffix(int i) {
        return WORDS[i] + " " + WORDS[(i * 7) % 16];
    }

    Path dataFile(int examples) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < examples; i++) {
            sb.append("{\"image\": \"").append(Json.escape(Fixtures.path("images", IMAGES[i % 3]).toString()))
                    .append("\", \"prefix\": \"caption en ").append(i).append("\", \"suffix\": \"").append(suffix(i)).append("\"}\n");
        }
        Path file = out.resolve("train.jsonl");
        Files.writeString(file, sb.toString());
        return file;
    }

    static List<Double> losses(Path log) throws IOException {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            var node = new ObjectMapper().readTree(line);
            if (node.has("loss")) out.add(node.get("loss").asDouble());
        }
        return out;
    }

    @Test
    void fullFineTuningOverfitsSixteenExamplesAndTheSavedModelGeneratesThem() throws IOException {
        Path model = out.resolve("model");
        CliRunner.Result r = CliRunner.run("train", "--model", Fixtures.path("paligemma-tiny").toString(), "--data", dataFile(16).toString(),
                "--full", "--lr", "1e-2", "--batch-size", "16", "--steps", "80", "--out", model.toString());
        assertEquals(0, r.exitCode(), r.err());
        List<Double> losses = losses(model.resolve("training_log.jsonl"));
        double last = losses.get(losses.size() - 1);
        assertTrue(last < 0.05, "loss after 80 steps on 16 examples: " + last + " (first " + losses.get(0) + ")");
        // The same log as CSV (a header and one row per step) and the loss curve as a picture.
        List<String> csv = Files.readAllLines(model.resolve("training_log.csv"));
        assertEquals("step,loss,lr,grad_norm,tokens,seconds,val_loss", csv.get(0));
        assertEquals(81, csv.size());
        assertTrue(csv.get(80).startsWith("80," + losses.get(79)), csv.get(80));
        var curve = javax.imageio.ImageIO.read(model.resolve("loss_curve.png").toFile());
        assertEquals(800, curve.getWidth());
        // The saved checkpoint opens in the inference path and answers what it learned.
        for (int i : new int[] {0, 5, 10}) {
            r = CliRunner.run("generate", "--model", model.toString(), "--image", Fixtures.path("images", IMAGES[i % 3]).toString(),
                    "--prompt", "caption en " + i, "--max-new-tokens", "8", "--json");
            assertEquals(0, r.exitCode(), r.err());
            assertTrue(r.out().contains("\"text\":\"" + suffix(i) + "\""), "example " + i + ": " + r.out());
        }
    }

    @Test
    void resumingFromACheckpointGivesTheSameFinalWeightsBitForBit() throws IOException {
        // Dropout on (so random draws matter), shuffling, batches of 2 over 5 examples (epochs cross batches), warm-up + cosine.
        TrainingCase c = TrainingCase.of("paligemma-tiny");
        Path adapter = out.resolve("init");
        Files.createDirectories(adapter);
        Files.writeString(adapter.resolve("adapter_config.json"),
                Files.readString(c.dir().resolve("lora_init/adapter_config.json")).replace("\"lora_dropout\": 0.0", "\"lora_dropout\": 0.1"));
        Files.copy(c.dir().resolve("lora_init/adapter_model.safetensors"), adapter.resolve("adapter_model.safetensors"));
        Path data = dataFile(5);
        List<String> common = List.of("train", "--model", c.modelDir().toString(), "--data", data.toString(), "--lr", "1e-2",
                "--batch-size", "2", "--steps", "6", "--schedule", "cosine", "--warmup-steps", "2", "--seed", "7", "--max-grad-norm", "1");
        CliRunner.Result r = CliRunner.run(concat(common, "--lora-init", adapter.toString(), "--save-every", "3", "--out", out.resolve("a").toString()));
        assertEquals(0, r.exitCode(), r.err());
        Path checkpoint = out.resolve("a/checkpoint-3");
        assertTrue(Files.isRegularFile(checkpoint.resolve("adapter_model.safetensors")), "the checkpoint is also a PEFT adapter");
        r = CliRunner.run(concat(common, "--resume", checkpoint.toString(), "--out", out.resolve("b").toString()));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().startsWith("step 4/6"), r.out());
        assertArrayEquals(Files.readAllBytes(out.resolve("a/adapter_model.safetensors")), Files.readAllBytes(out.resolve("b/adapter_model.safetensors")),
                "adapter after 6 steps, uninterrupted vs resumed at step 3");
        assertEquals(losses(out.resolve("a/training_log.jsonl")).subList(3, 6), losses(out.resolve("b/training_log.jsonl")));

        List<String> otherSeed = common.stream().map(a -> a.equals("7") ? "8" : a).toList();
        r = CliRunner.run(concat(otherSeed, "--resume", checkpoint.toString(), "--out", out.resolve("c").toString()));
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("saved with seed 7"), r.err());
    }

    @Test
    void freezingByPartChangesOnlyTheTrainedPart() throws IOException {
        Path model = out.resolve("model");
        Path original = Fixtures.path("paligemma2-tiny");
        CliRunner.Result r = CliRunner.run("train", "--model", original.toString(), "--data", dataFile(3).toString(),
                "--full", "--train", "projector,decoder", "--lr", "1e-3", "--steps", "2", "--out", model.toString());
        assertEquals(0, r.exitCode(), r.err());
        Map<String, double[]> before = TrainingCase.tensors(original.resolve("model.safetensors"));
        Map<String, double[]> after = TrainingCase.tensors(model.resolve("model.safetensors"));
        assertEquals(before.keySet(), after.keySet());
        for (String name : before.keySet()) {
            boolean same = java.util.Arrays.equals(before.get(name), after.get(name));
            if (name.startsWith("vision_tower.")) assertTrue(same, name + " is frozen");
            else assertFalse(same, name + " is trained");
        }
        for (String file : new String[] {"config.json", "tokenizer.model", "preprocessor_config.json"}) {
            assertArrayEquals(Files.readAllBytes(original.resolve(file)), Files.readAllBytes(model.resolve(file)), file);
        }
        r = CliRunner.run("train", "--model", original.toString(), "--data", dataFile(3).toString(), "--full", "--train", "vision,lm",
                "--lr", "1e-3", "--steps", "1", "--out", out.resolve("x").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("unknown part 'lm'"), r.err());
    }

    private static String[] concat(List<String> a, String... b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }

    @Test
    void newLoraAdapterTrainsAndLoadsBack() throws IOException {
        Path adapter = out.resolve("adapter");
        CliRunner.Result r = CliRunner.run("train", "--model", Fixtures.path("paligemma2-tiny").toString(), "--data", dataFile(4).toString(),
                "--lora", "r=2,alpha=4,dropout=0.05,targets=language_model\\.model\\.layers\\.\\d+\\.self_attn\\.(q_proj|v_proj)",
                "--lr", "1e-2", "--batch-size", "2", "--steps", "3", "--out", adapter.toString());
        assertEquals(0, r.exitCode(), r.err());
        Map<String, double[]> tensors = TrainingCase.tensors(adapter.resolve("adapter_model.safetensors"));
        assertEquals(16, tensors.size(), "q_proj and v_proj of 4 layers, A and B each");
        assertTrue(tensors.keySet().stream().allMatch(n -> n.matches("base_model\\.model\\.language_model\\.model\\.layers\\.\\d\\.self_attn\\.[qv]_proj\\.lora_[AB]\\.weight")),
                tensors.keySet().toString());
        var config = new ObjectMapper().readTree(adapter.resolve("adapter_config.json").toFile());
        assertEquals(2, config.get("r").asInt());
        assertEquals(4, config.get("lora_alpha").asInt());
        assertEquals(0.05, config.get("lora_dropout").asDouble());
        // The trained adapter grads cleanly through the contract command.
        r = CliRunner.run("grads", "--model", Fixtures.path("paligemma2-tiny").toString(), "--image", Fixtures.path("images", IMAGES[0]).toString(),
                "--prompt", "caption en 0", "--suffix", suffix(0), "--lora", adapter.toString(), "--out", out.resolve("g").toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(tensors.keySet(), TrainingCase.tensors(out.resolve("g/lora_grads.safetensors")).keySet());

        r = CliRunner.run("train", "--model", Fixtures.path("paligemma2-tiny").toString(), "--data", dataFile(4).toString(),
                "--lora", "alpha=4", "--lr", "1e-2", "--steps", "1", "--out", out.resolve("x").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--lora needs r=RANK"), r.err());
        r = CliRunner.run("train", "--model", Fixtures.path("paligemma2-tiny").toString(), "--data", dataFile(4).toString(),
                "--lora", "r=2,targets=nothing_matches", "--lr", "1e-2", "--steps", "1", "--out", out.resolve("x").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("no linear layer of the model matches"), r.err());
    }

    @Test
    void validationLossIsReportedAndEqualsTheTrainedAdaptersLoss() throws IOException {
        TrainingCase c = TrainingCase.of("paligemma2-tiny");
        var e = c.entry();
        Path val = out.resolve("val.jsonl");
        Files.writeString(val, "{\"image\": \"" + Json.escape(Fixtures.path(e.get("image").asText()).toString()) + "\", \"prefix\": \""
                + Json.escape(e.get("prompt").asText()) + "\", \"suffix\": \"" + Json.escape(e.get("suffix").asText()) + "\"}\n");
        Path adapter = out.resolve("adapter");
        CliRunner.Result r = CliRunner.run("train", "--model", c.modelDir().toString(), "--data", dataFile(3).toString(), "--val", val.toString(),
                "--val-every", "2", "--lora-init", c.dir().resolve("lora_init").toString(), "--lr", "1e-3", "--steps", "3",
                "--out", adapter.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("ETA") && r.out().contains("tokens/s"), r.out());
        List<Double> validation = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        for (String line : Files.readAllLines(adapter.resolve("training_log.jsonl"))) {
            var node = new ObjectMapper().readTree(line);
            if (node.has("val_loss")) {
                validation.add(node.get("val_loss").asDouble());
                at.add(node.get("step").asInt());
            }
        }
        assertEquals(List.of(2, 3), at, "validation after step 2 and at the end");
        r = CliRunner.run("grads", "--model", c.modelDir().toString(), "--image", Fixtures.path(e.get("image").asText()).toString(),
                "--prompt", e.get("prompt").asText(), "--suffix", e.get("suffix").asText(), "--lora", adapter.toString(),
                "--out", out.resolve("g").toString());
        assertEquals(0, r.exitCode(), r.err());
        double gradsLoss = org.paligemma4j.io.NpyArray.read(out.resolve("g/loss.npy")).toDoubleArray()[0];
        assertEquals(gradsLoss, validation.get(1), 1e-6, "the final validation loss is the trained adapter's loss");
    }
}
