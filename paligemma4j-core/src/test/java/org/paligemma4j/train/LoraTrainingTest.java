package org.paligemma4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.io.SafetensorsFile;
import org.paligemma4j.io.SafetensorsWriter;
import org.paligemma4j.model.LoraAdapter;
import org.paligemma4j.model.PaliGemmaTraining;
import org.paligemma4j.model.Param;
import org.paligemma4j.model.SlidingWindowSemantics;
import org.paligemma4j.testing.TrainingCase;

/**
 * LoRA as PEFT's lora.Linear and AdamW as torch's, against {@code training/<model>/}: the adapter's
 * gradients at {@code lora_init} (float64 reference, same measure as the full gradients), three AdamW
 * steps reproducing {@code lora_adamw3} and the losses before each step, and the PEFT file layout.
 */
class LoraTrainingTest {
    static Stream<TrainingCase> cases() {
        return Stream.of(TrainingCase.MODELS).map(TrainingCase::of);
    }

    static LoraAdapter loadInit(TrainingCase c) {
        return LoraAdapter.load(c.dir().resolve("lora_init"), PaliGemmaConfig.load(c.modelDir()));
    }

    static double step(PaliGemmaTraining t, TrainingCase c) {
        int[] ids = c.ids();
        t.zeroGradients();
        return t.lossAndGradients(c.pixels(), ids, c.prefixLength(), SlidingWindowSemantics.TRANSFORMERS,
                t.lossTokens(ids, c.prefixLength()), null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void loraGradientsMatchReference(TrainingCase c) {
        LoraAdapter adapter = loadInit(c);
        var modules = c.entry().get("lora").get("modules");
        assertEquals(modules.size(), adapter.modules().size(), "adapted modules (7 per decoder layer)");
        for (int i = 0; i < modules.size(); i++) assertEquals(modules.get(i).asText(), adapter.modules().get(i).module());
        assertEquals(2.0f, adapter.scaling(), "lora_alpha / r");
        try (PaliGemmaTraining t = PaliGemmaTraining.open(c.modelDir(), adapter)) {
            double loss = step(t, c);
            assertEquals(c.entry().get("lora").get("loss_initial_ref_f64").asDouble(), loss, 1e-5, c + " LoRA loss");
            assertTrue(t.trainedParameters().isEmpty(), "the base model is frozen");
            Map<String, double[]> ref = c.tensors("lora_grads_f64.safetensors");
            assertEquals(ref.size(), adapter.parameters().size(), "gradient tensors");
            double globalMax = 0;
            for (double[] g : ref.values()) for (double v : g) globalMax = Math.max(globalMax, Math.abs(v));
            double worst = 0;
            for (Param p : adapter.parameters()) {
                double[] want = ref.get(p.name());
                assertTrue(want != null, "reference has " + p.name());
                worst = Math.max(worst, relativeDifference(want, p.grad(), globalMax, c + " " + p.name()));
            }
            System.out.printf("%s: LoRA loss %.9f, worst gradient difference %.3g of the tensor's largest%n", c, loss, worst);
        }
    }

    /** max|expected − actual| / max(max|expected|, 1e-4·globalMax), asserted ≤ 1e-4 and returned. */
    static double relativeDifference(double[] expected, float[] actual, double globalMax, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        double scale = 0, worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        double rel = worst / Math.max(scale, 1e-4 * globalMax);
        assertTrue(rel <= 1e-4, String.format("%s: max |diff| %.3g is %.3g of the tensor's largest gradient", what, worst, rel));
        return rel;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void threeAdamWStepsReproduceReference(TrainingCase c) {
        LoraAdapter adapter = loadInit(c);
        var lora = c.entry().get("lora");
        var adam = c.manifest().get("adamw");
        try (PaliGemmaTraining t = PaliGemmaTraining.open(c.modelDir(), adapter)) {
            AdamW optimizer = new AdamW(t.optimizedParameters(), adam.get("betas").get(0).asDouble(),
                    adam.get("betas").get(1).asDouble(), adam.get("eps").asDouble(), adam.get("weight_decay").asDouble());
            for (int s = 0; s < 3; s++) {
                double loss = step(t, c);
                assertEquals(lora.get("adamw_losses_ref_f64").get(s).asDouble(), loss, 1e-5, c + " loss before step " + (s + 1));
                optimizer.step(adam.get("lr").asDouble());
            }
            assertEquals(lora.get("loss_after_3_steps_ref_f64").asDouble(), step(t, c), 1e-5, c + " loss after 3 steps");

            Map<String, double[]> want = TrainingCase.tensors(c.dir().resolve("lora_adamw3").resolve(LoraAdapter.WEIGHTS_FILE));
            Map<String, double[]> state = c.tensors("lora_adamw3_optimizer_state.safetensors");
            double worstWeight = 0;
            List<Param> params = optimizer.parameters();
            for (int k = 0; k < params.size(); k++) {
                Param p = params.get(k);
                double[] w = want.get(p.name());
                for (int i = 0; i < w.length; i++) worstWeight = Math.max(worstWeight, Math.abs(w[i] - p.value()[i]));
                closeToTensorMax(state.get(p.name() + ".exp_avg"), optimizer.expAvg(k), p.name() + ".exp_avg");
                closeToTensorMax(state.get(p.name() + ".exp_avg_sq"), optimizer.expAvgSq(k), p.name() + ".exp_avg_sq");
            }
            assertTrue(worstWeight <= 1e-5, c + ": weights after 3 AdamW steps differ by " + worstWeight);
            System.out.printf("%s: weights after 3 AdamW steps within %.3g of lora_adamw3%n", c, worstWeight);
        }
    }

    /** The optimizer state against torch's float32 run (its gradients differ from float64 by up to 4e-5 of the tensor max). */
    private static void closeToTensorMax(double[] expected, float[] actual, String what) {
        double scale = 0, worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= 1e-3 * scale, what + ": max |diff| " + worst + " of " + scale);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void savedAdapterKeepsPeftNamesAndConfig(TrainingCase c, @TempDir Path out) throws IOException {
        LoraAdapter adapter = loadInit(c);
        adapter.save(out);
        Path init = c.dir().resolve("lora_init");
        assertEquals(Files.readString(init.resolve(LoraAdapter.CONFIG_FILE)), Files.readString(out.resolve(LoraAdapter.CONFIG_FILE)),
                "adapter_config.json as PEFT writes it");
        Map<String, double[]> original = TrainingCase.tensors(init.resolve(LoraAdapter.WEIGHTS_FILE));
        Map<String, double[]> saved = TrainingCase.tensors(out.resolve(LoraAdapter.WEIGHTS_FILE));
        assertEquals(List.copyOf(original.keySet()), List.copyOf(saved.keySet()), "tensor names and order");
        original.forEach((name, v) -> assertArrayEquals(v, saved.get(name), name));
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve(LoraAdapter.WEIGHTS_FILE))) {
            assertEquals(Map.of("format", "pt"), f.metadata());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void adapterWithNewerTransformersModulePathsLoadsTheSame(TrainingCase c, @TempDir Path out) throws IOException {
        // transformers ≥ 4.52 names the decoder model.language_model.layers.N…; PEFT saves base_model.model.<that>.
        Path init = c.dir().resolve("lora_init");
        Files.copy(init.resolve(LoraAdapter.CONFIG_FILE), out.resolve(LoraAdapter.CONFIG_FILE));
        List<SafetensorsWriter.Entry> renamed = new ArrayList<>();
        try (SafetensorsFile f = SafetensorsFile.open(init.resolve(LoraAdapter.WEIGHTS_FILE))) {
            for (SafeTensor t : f.tensors().values()) {
                String name = t.name().replace("base_model.model.language_model.model.", "base_model.model.model.language_model.");
                renamed.add(new SafetensorsWriter.Entry(name, DType.F32, t.shape(), SafetensorsWriter.Content.ofFloats(t.toFloatArray())));
            }
            SafetensorsWriter.write(out.resolve(LoraAdapter.WEIGHTS_FILE), renamed, Map.of("format", "pt"));
        }
        LoraAdapter newer = LoraAdapter.load(out, PaliGemmaConfig.load(c.modelDir()));
        LoraAdapter older = loadInit(c);
        assertEquals(older.modules().stream().map(LoraAdapter.Module::target).sorted().toList(),
                newer.modules().stream().map(LoraAdapter.Module::target).sorted().toList(), "adapted weights");
        assertTrue(newer.modules().get(0).module().startsWith("model.language_model.layers."), newer.modules().get(0).module());
        double lossOld, lossNew;
        try (PaliGemmaTraining t = PaliGemmaTraining.open(c.modelDir(), older)) {
            lossOld = step(t, c);
        }
        try (PaliGemmaTraining t = PaliGemmaTraining.open(c.modelDir(), newer)) {
            lossNew = step(t, c);
        }
        assertEquals(lossOld, lossNew, 0.0, "same adapter, either module layout");
        newer.save(out.resolve("saved"));
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("saved").resolve(LoraAdapter.WEIGHTS_FILE))) {
            assertTrue(f.tensors().keySet().stream().allMatch(n -> n.startsWith("base_model.model.model.language_model.layers.")),
                    "saving keeps the layout it was loaded in");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void newAdapterHasPeftsConfigAndStartsAtTheBaseModel(TrainingCase c, @TempDir Path out) throws IOException {
        PaliGemmaConfig config = PaliGemmaConfig.load(c.modelDir());
        LoraAdapter adapter = LoraAdapter.create(config, c.model(), 4, 8, 0.0, LoraAdapter.DECODER_TARGETS, 1);
        adapter.save(out);
        assertEquals(Files.readString(c.dir().resolve("lora_init").resolve(LoraAdapter.CONFIG_FILE)),
                Files.readString(out.resolve(LoraAdapter.CONFIG_FILE)), "adapter_config.json, key for key as PEFT writes it");
        var modules = c.entry().get("lora").get("modules");
        assertEquals(modules.size(), adapter.modules().size());
        for (int i = 0; i < modules.size(); i++) assertEquals(modules.get(i).asText(), adapter.modules().get(i).module());
        assertEquals(List.copyOf(TrainingCase.tensors(c.dir().resolve("lora_init").resolve(LoraAdapter.WEIGHTS_FILE)).keySet()),
                List.copyOf(TrainingCase.tensors(out.resolve(LoraAdapter.WEIGHTS_FILE)).keySet()), "tensor names");
        for (LoraAdapter.Module m : adapter.modules()) {
            double bound = 1 / Math.sqrt(m.a().shape()[1]);
            for (float v : m.a().value()) assertTrue(Math.abs(v) <= bound, "A within ±1/sqrt(in)");
            for (float v : m.b().value()) assertEquals(0f, v, "B starts at zero");
        }
        try (PaliGemmaTraining t = PaliGemmaTraining.open(c.modelDir(), adapter)) {
            assertEquals(c.entry().get("loss_ref_f64").asDouble(), step(t, c), 1e-5, "B = 0: the base model's loss");
        }
    }
}
