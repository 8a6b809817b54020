package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.testing.Fixtures;
import org.paligemma4j.testing.TrainingCase;

/**
 * The {@code grads} and {@code train} contracts, run as a user runs them, against {@code training/<model>/}:
 * loss and gradients (every tensor, under the reference's names) within 1e-4 of each tensor's largest
 * gradient of the float64 reference, and three AdamW steps from lora_init reproducing lora_adamw3.
 */
class TrainingCommandsTest {
    @TempDir
    Path out;

    private static String quote(String s) {
        return "\"" + Json.escape(s) + "\"";
    }

    static Stream<TrainingCase> cases() {
        return Stream.of(TrainingCase.MODELS).map(TrainingCase::of);
    }

    private static String[] gradsArgs(TrainingCase c, Path out, String... extra) {
        var e = c.entry();
        List<String> args = new java.util.ArrayList<>(List.of("grads", "--model", c.modelDir().toString(),
                "--image", Fixtures.path(e.get("image").asText()).toString(), "--prompt", e.get("prompt").asText(),
                "--suffix", e.get("suffix").asText(), "--out", out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradsWritesLossAndEveryGradientUnderTheCheckpointNames(TrainingCase c) throws IOException {
        CliRunner.Result r = CliRunner.run(gradsArgs(c, out));
        assertEquals(0, r.exitCode(), r.err());
        NpyArray loss = NpyArray.read(out.resolve("loss.npy"));
        assertEquals("<f4", loss.dtype());
        assertEquals(0, loss.shape().length, "loss.npy is a scalar");
        assertEquals(c.entry().get("loss_ref_f64").asDouble(), loss.toDoubleArray()[0], 1e-5, "loss");
        compare(c.tensors("full_grads_f64.safetensors"), TrainingCase.tensors(out.resolve("full_grads.safetensors")), c + " full");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradsWithLoraWritesTheAdapterGradientsUnderPeftNames(TrainingCase c) throws IOException {
        CliRunner.Result r = CliRunner.run(gradsArgs(c, out, "--lora", c.dir().resolve("lora_init").toString()));
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(c.entry().get("lora").get("loss_initial_ref_f64").asDouble(),
                NpyArray.read(out.resolve("loss.npy")).toDoubleArray()[0], 1e-5, "loss");
        assertTrue(Files.notExists(out.resolve("full_grads.safetensors")));
        compare(c.tensors("lora_grads_f64.safetensors"), TrainingCase.tensors(out.resolve("lora_grads.safetensors")), c + " LoRA");
    }

    /** Same names, same shapes, each tensor within 1e-4 of its largest reference gradient (floored at 1e-4 of the largest overall). */
    static void compare(Map<String, double[]> reference, Map<String, double[]> ours, String what) {
        assertEquals(new java.util.TreeSet<>(reference.keySet()), new java.util.TreeSet<>(ours.keySet()), what + ": tensor names");
        double globalMax = 0;
        for (double[] g : reference.values()) for (double v : g) globalMax = Math.max(globalMax, Math.abs(v));
        for (var e : reference.entrySet()) {
            double[] want = e.getValue(), got = ours.get(e.getKey());
            assertEquals(want.length, got.length, e.getKey());
            double scale = 1e-4 * globalMax, worst = 0;
            for (int i = 0; i < want.length; i++) {
                scale = Math.max(scale, Math.abs(want[i]));
                worst = Math.max(worst, Math.abs(want[i] - got[i]));
            }
            assertTrue(worst <= 1e-4 * scale, what + " " + e.getKey() + ": max |diff| " + worst + " of " + scale);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void trainThreeAdamWStepsReproducesTheReferenceAdapter(TrainingCase c) throws IOException {
        // The image path relative to the data file's folder, as the JSONL layout allows.
        Path data = out.resolve("data");
        Files.createDirectories(data.resolve("photos"));
        var e = c.entry();
        Files.copy(Fixtures.path(e.get("image").asText()), data.resolve("photos/example.jpg"));
        Files.writeString(data.resolve("train.jsonl"), "{\"image\": \"photos/example.jpg\", \"prefix\": " + ("\"" + Json.escape(e.get("prompt").asText()) + "\"")
                + ", \"suffix\": " + ("\"" + Json.escape(e.get("suffix").asText()) + "\"") + "}\n");
        Path adapterOut = out.resolve("adapter");
        var adam = c.manifest().get("adamw");
        CliRunner.Result r = CliRunner.run("train", "--model", c.modelDir().toString(), "--data", data.resolve("train.jsonl").toString(),
                "--lora-init", c.dir().resolve("lora_init").toString(), "--optimizer", "adamw", "--lr", adam.get("lr").asText(),
                "--weight-decay", adam.get("weight_decay").asText(), "--betas", "0.9,0.999", "--eps", "1e-8", "--schedule", "constant",
                "--batch-size", "1", "--steps", "3", "--no-shuffle", "--out", adapterOut.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("step 3/3"), r.out());
        Map<String, double[]> want = TrainingCase.tensors(c.dir().resolve("lora_adamw3/adapter_model.safetensors"));
        Map<String, double[]> got = TrainingCase.tensors(adapterOut.resolve("adapter_model.safetensors"));
        assertEquals(List.copyOf(want.keySet()), List.copyOf(got.keySet()), "PEFT tensor names");
        double worst = 0;
        for (var w : want.entrySet()) {
            double[] g = got.get(w.getKey());
            for (int i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(w.getValue()[i] - g[i]));
        }
        assertTrue(worst <= 1e-5, "adapter after 3 steps differs from lora_adamw3 by " + worst);
        assertEquals(Files.readString(c.dir().resolve("lora_adamw3/adapter_config.json")),
                Files.readString(adapterOut.resolve("adapter_config.json")), "adapter_config.json");
        List<String> log = Files.readAllLines(adapterOut.resolve("training_log.jsonl"));
        assertEquals(3, log.size());
        var losses = e.get("lora").get("adamw_losses_ref_f64");
        for (int s = 0; s < 3; s++) {
            double loss = new com.fasterxml.jackson.databind.ObjectMapper().readTree(log.get(s)).get("loss").asDouble();
            assertEquals(losses.get(s).asDouble(), loss, 1e-5, "loss before step " + (s + 1));
        }
    }

    @Test
    void trainReportsEveryBadDataLineWithItsNumber() throws IOException {
        TrainingCase c = TrainingCase.of("paligemma-tiny");
        Path image = Fixtures.path("images", "photo_like.jpg");
        Path data = out.resolve("bad.jsonl");
        Files.writeString(data, String.join("\n",
                "{\"image\": " + ("\"" + Json.escape(image.toString()) + "\"") + ", \"prefix\": \"caption en\", \"suffix\": \"a dog\"}",
                "{\"image\": \"missing.jpg\", \"prefix\": \"caption en\", \"suffix\": \"a dog\"}",
                "",
                "not json",
                "{\"image\": " + ("\"" + Json.escape(image.toString()) + "\"") + ", \"prefix\": 3, \"suffix\": \"x\"}",
                "{\"image\": " + ("\"" + Json.escape(image.toString()) + "\"") + ", \"prefix\": \"caption en\"}"));
        CliRunner.Result r = CliRunner.run("train", "--model", c.modelDir().toString(), "--data", data.toString(),
                "--lora-init", c.dir().resolve("lora_init").toString(), "--lr", "1e-3", "--steps", "1", "--out", out.resolve("o").toString());
        assertEquals(1, r.exitCode(), r.err());
        for (String expected : new String[] {"4 bad lines", "line 2: image", "does not exist", "line 4: not valid JSON",
                "line 5: \"prefix\" must be a string", "line 6: missing \"suffix\""}) {
            assertTrue(r.err().contains(expected), "stderr should mention '" + expected + "': " + r.err());
        }
        assertTrue(r.err().startsWith("paligemma train: "), r.err());
    }

    @Test
    void badOptionsAndAdaptersAreOneLineErrors() throws IOException {
        TrainingCase c = TrainingCase.of("paligemma-tiny");
        var e = c.entry();
        CliRunner.Result r = CliRunner.run(gradsArgs(c, out, "--lora", out.resolve("nowhere").toString()));
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("adapter directory does not exist"), r.err());

        Path broken = out.resolve("broken");
        Files.createDirectories(broken);
        Files.copy(c.dir().resolve("lora_init/adapter_config.json"), broken.resolve("adapter_config.json"));
        Files.writeString(broken.resolve("adapter_model.safetensors"), "not a safetensors file");
        r = CliRunner.run(gradsArgs(c, out, "--lora", broken.toString()));
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("paligemma grads: ") && r.err().contains("adapter_model.safetensors"), r.err());

        // An adapter for another model: LoRA shapes that do not fit.
        TrainingCase other = TrainingCase.of("paligemma2-tiny");
        r = CliRunner.run(gradsArgs(c, out, "--lora", other.dir().resolve("lora_init").toString()));
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("expected ["), r.err());

        Path data = out.resolve("d.jsonl");
        Files.writeString(data, "{\"image\": " + quote(Fixtures.path(e.get("image").asText()).toString())
                + ", \"prefix\": \"a\", \"suffix\": \"b\"}\n");
        r = CliRunner.run("train", "--model", c.modelDir().toString(), "--data", data.toString(), "--lora-init",
                c.dir().resolve("lora_init").toString(), "--lr", "1e-3", "--steps", "1", "--betas", "0.9", "--out", out.resolve("o").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--betas must be two numbers"), r.err());
        r = CliRunner.run("train", "--model", c.modelDir().toString(), "--data", data.toString(), "--lora-init",
                c.dir().resolve("lora_init").toString(), "--lr", "1e-3", "--steps", "1", "--optimizer", "sgd", "--out", out.resolve("o").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--optimizer must be adamw"), r.err());
    }

    @Test
    void quantizedCheckpointsAndFileOutputsAreRefusedClearly() throws IOException {
        TrainingCase c = TrainingCase.of("paligemma-tiny");
        Path q8 = out.resolve("q8");
        assertEquals(0, CliRunner.run("quantize", "--model", c.modelDir().toString(), "--quant", "q8", "--out", q8.toString()).exitCode());
        Path grads = out.resolve("grads");
        var e = c.entry();
        CliRunner.Result r = CliRunner.run("grads", "--model", q8.toString(), "--image", Fixtures.path(e.get("image").asText()).toString(),
                "--prompt", e.get("prompt").asText(), "--suffix", e.get("suffix").asText(), "--out", grads.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("stored quantized; training needs the float weights"), r.err());

        Path file = out.resolve("a-file");
        Files.writeString(file, "x");
        r = CliRunner.run(gradsArgs(c, file));
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--out exists and is not a directory"), r.err());
    }
}
