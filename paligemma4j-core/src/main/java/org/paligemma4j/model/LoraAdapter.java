package org.paligemma4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.paligemma4j.io.CheckpointException;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.io.SafetensorsFile;
import org.paligemma4j.io.SafetensorsWriter;
import org.paligemma4j.io.WeightNames;
import org.paligemma4j.tensor.ArrayMatrix;
import org.paligemma4j.tensor.FloatMatrix;

/**
 * A LoRA adapter in PEFT's layout, as PEFT's {@code lora.Linear} applies it:
 * {@code y = W·x + (lora_alpha / r)·B·(A·dropout(x))} with {@code A = lora_A.weight [r, in]} and
 * {@code B = lora_B.weight [out, r]} ({@code lora_alpha / √r} with rsLoRA).
 *
 * <p>On disk: {@code adapter_config.json} and {@code adapter_model.safetensors} whose tensors are named
 * {@code base_model.model.<module>.lora_A.weight} / {@code .lora_B.weight}. The module path is that of
 * the transformers version the adapter was made with: {@code language_model.model.layers.0.self_attn.q_proj}
 * up to 4.51, {@code model.language_model.layers.0.self_attn.q_proj} since the PaliGemmaModel refactor
 * (4.52); both load. Saving keeps the names and the config exactly as loaded, so an adapter trained here
 * goes back to the Python side it came from.
 */
public final class LoraAdapter {
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    private static final String PREFIX = "base_model.model.";
    private static final String A_SUFFIX = ".lora_A.weight", B_SUFFIX = ".lora_B.weight";

    private final ObjectNode config;
    private final int rank;
    private final double alpha, dropout;
    private final float scaling;
    private final Map<String, Module> byWeight; // canonical weight name → module

    /**
     * One adapted linear layer: A {@code [r, in]} and B {@code [out, r]} as trainable parameters named as
     * saved, and the canonical name of the weight they adapt.
     */
    public static final class Module {
        private final String module, target;
        private final Param a, b;
        private final FloatMatrix aMatrix, bMatrix;
        private final LoraAdapter adapter;

        private Module(LoraAdapter adapter, String module, String target, Param a, Param b) {
            this.adapter = adapter;
            this.module = module;
            this.target = target;
            this.a = a;
            this.b = b;
            long[] as = a.shape(), bs = b.shape();
            aMatrix = new ArrayMatrix(a.name(), a.value(), (int) as[0], (int) as[1]);
            bMatrix = new ArrayMatrix(b.name(), b.value(), (int) bs[0], (int) bs[1]);
        }

        /** The module path as saved, e.g. {@code language_model.model.layers.0.self_attn.q_proj}. */
        public String module() {
            return module;
        }

        /** The canonical name of the adapted weight. */
        public String target() {
            return target;
        }

        public Param a() {
            return a;
        }

        public Param b() {
            return b;
        }

        int rank() {
            return aMatrix.rows();
        }

        float scaling() {
            return adapter.scaling;
        }

        double dropout() {
            return adapter.dropout;
        }

        FloatMatrix aMatrix() {
            return aMatrix;
        }

        FloatMatrix bMatrix() {
            return bMatrix;
        }
    }

    private LoraAdapter(ObjectNode config, int rank, double alpha, double dropout, boolean rsLora) {
        this.config = config;
        this.rank = rank;
        this.alpha = alpha;
        this.dropout = dropout;
        this.scaling = (float) (rsLora ? alpha / Math.sqrt(rank) : alpha / rank);
        this.byWeight = new LinkedHashMap<>();
    }

    /**
     * Reads the adapter in {@code dir} and checks it against the model: every adapted module must be a
     * linear layer of the model, with A and B of the right shapes.
     */
    public static LoraAdapter load(Path dir, PaliGemmaConfig model) {
        Path configFile = dir.resolve(CONFIG_FILE), weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir + ": adapter directory does not exist");
        if (!Files.isRegularFile(configFile)) throw new CheckpointException(configFile + ": file not found (not a PEFT adapter?)");
        if (!Files.isRegularFile(weightsFile)) {
            throw new CheckpointException(weightsFile + ": file not found"
                    + (Files.isRegularFile(dir.resolve("adapter_model.bin")) ? " (only safetensors adapters are read, not adapter_model.bin)" : ""));
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(configFile.toFile());
        } catch (IOException e) {
            throw new CheckpointException(configFile + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new CheckpointException(configFile + ": expected a JSON object");
        ObjectNode config = (ObjectNode) root;
        String type = text(config, "peft_type", "LORA");
        if (!type.equals("LORA")) throw new CheckpointException(configFile + ": peft_type is " + type + ", only LORA is supported");
        JsonNode r = config.get("r");
        if (r == null || !r.canConvertToInt() || r.asInt() < 1) {
            throw new CheckpointException(configFile + ": 'r' must be a positive integer, got " + r);
        }
        double alpha = number(config, configFile, "lora_alpha", 8);
        double dropout = number(config, configFile, "lora_dropout", 0);
        if (!(dropout >= 0 && dropout < 1)) throw new CheckpointException(configFile + ": lora_dropout must be in [0, 1), got " + dropout);
        unsupportedUnless(config, configFile, "use_dora", n -> !n.asBoolean(), "DoRA");
        unsupportedUnless(config, configFile, "bias", n -> n.asText().equals("none"), "trained biases (bias other than \"none\")");
        unsupportedUnless(config, configFile, "fan_in_fan_out", n -> !n.asBoolean(), "fan_in_fan_out (Conv1D layers)");
        unsupportedUnless(config, configFile, "modules_to_save", n -> n.isEmpty(), "modules_to_save (fully trained extra modules)");
        unsupportedUnless(config, configFile, "rank_pattern", n -> n.isEmpty(), "per-module ranks (rank_pattern)");
        unsupportedUnless(config, configFile, "alpha_pattern", n -> n.isEmpty(), "per-module alphas (alpha_pattern)");
        unsupportedUnless(config, configFile, "layer_replication", n -> n.isEmpty(), "layer_replication");
        boolean rsLora = config.has("use_rslora") && config.get("use_rslora").asBoolean();
        LoraAdapter adapter = new LoraAdapter(config, r.asInt(), alpha, dropout, rsLora);

        Map<String, long[]> expected = WeightNames.expected(model);
        try (SafetensorsFile file = SafetensorsFile.open(weightsFile)) {
            Map<String, SafeTensor[]> pairs = new TreeMap<>();
            List<String> problems = new ArrayList<>();
            for (SafeTensor t : file.tensors().values()) {
                String name = t.name();
                boolean isA = name.endsWith(A_SUFFIX), isB = name.endsWith(B_SUFFIX);
                if (!name.startsWith(PREFIX) || !(isA || isB)) {
                    problems.add("'" + name + "' is not named base_model.model.<module>.lora_A.weight or .lora_B.weight");
                    continue;
                }
                String module = name.substring(PREFIX.length(), name.length() - A_SUFFIX.length());
                pairs.computeIfAbsent(module, k -> new SafeTensor[2])[isA ? 0 : 1] = t;
            }
            for (Map.Entry<String, SafeTensor[]> e : pairs.entrySet()) {
                String module = e.getKey();
                SafeTensor a = e.getValue()[0], b = e.getValue()[1];
                if (a == null || b == null) {
                    problems.add(module + ": has lora_" + (a == null ? "B" : "A") + " but no lora_" + (a == null ? "A" : "B"));
                    continue;
                }
                String target = WeightNames.canonical(module + ".weight");
                long[] shape = expected.get(target);
                if (shape == null || !isLinear(target, shape)) {
                    problems.add(module + ": not a linear layer of this model");
                    continue;
                }
                long out = shape[0], in = shape[1], rank = adapter.rank;
                if (!java.util.Arrays.equals(a.shape(), new long[] {rank, in})) {
                    problems.add(a.name() + " is " + a.shapeString() + ", expected [" + rank + ", " + in + "] (r × in_features)");
                }
                if (!java.util.Arrays.equals(b.shape(), new long[] {out, rank})) {
                    problems.add(b.name() + " is " + b.shapeString() + ", expected [" + out + ", " + rank + "] (out_features × r)");
                }
                for (SafeTensor t : new SafeTensor[] {a, b}) {
                    if (!(t.dtype() == DType.F32 || t.dtype() == DType.BF16 || t.dtype() == DType.F16 || t.dtype() == DType.F64)) {
                        problems.add(t.name() + " has dtype " + t.dtype() + "; LoRA weights must be floating point");
                    }
                }
                if (adapter.byWeight.containsKey(target)) {
                    problems.add(module + ": adapts the same layer as " + adapter.byWeight.get(target).module + " (two module layouts mixed)");
                }
                if (!problems.isEmpty()) continue;
                adapter.byWeight.put(target, new Module(adapter, module, target,
                        new Param(a.name(), a.shape(), a.toFloatArray(), true),
                        new Param(b.name(), b.shape(), b.toFloatArray(), true)));
            }
            if (pairs.isEmpty() && problems.isEmpty()) problems.add("no LoRA tensors");
            if (!problems.isEmpty()) {
                throw new CheckpointException(weightsFile + ": " + String.join("; ", problems.subList(0, Math.min(10, problems.size())))
                        + (problems.size() > 10 ? "; … and " + (problems.size() - 10) + " more" : ""));
            }
        }
        return adapter;
    }

    /** PEFT's target regex for every attention and MLP projection of the decoder (not SigLIP's q/k/v). */
    public static final String DECODER_TARGETS =
            "language_model\\.model\\.layers\\.\\d+\\.(self_attn\\.(q_proj|k_proj|v_proj|o_proj)|mlp\\.(gate_proj|up_proj|down_proj))";

    /**
     * A new adapter as PEFT's {@code get_peft_model} creates one: every linear layer whose module path
     * (transformers 4.49 layout, e.g. {@code language_model.model.layers.0.self_attn.q_proj}) fully
     * matches the {@code targets} regex gets A initialised as {@code kaiming_uniform_(a=√5)} (uniform in
     * ±1/√in) and B as zeros, so the adapted model starts equal to the base model. The config holds the
     * keys PEFT 0.14 writes.
     */
    public static LoraAdapter create(PaliGemmaConfig model, String baseModelName, int rank, double alpha, double dropout,
                                     String targets, long seed) {
        if (rank < 1) throw new IllegalArgumentException("LoRA rank must be at least 1, got " + rank);
        if (!(alpha > 0)) throw new IllegalArgumentException("lora_alpha must be positive, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        java.util.regex.Pattern pattern;
        try {
            pattern = java.util.regex.Pattern.compile(targets);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("LoRA targets are not a valid regex: " + e.getDescription());
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode();
        config.putObject("alpha_pattern");
        config.putNull("auto_mapping");
        config.put("base_model_name_or_path", baseModelName);
        config.put("bias", "none");
        config.putNull("eva_config");
        config.putNull("exclude_modules");
        config.put("fan_in_fan_out", false);
        config.put("inference_mode", true);
        config.put("init_lora_weights", true);
        config.putNull("layer_replication");
        config.putNull("layers_pattern");
        config.putNull("layers_to_transform");
        config.putObject("loftq_config");
        if (alpha == Math.rint(alpha)) config.put("lora_alpha", (long) alpha);
        else config.put("lora_alpha", alpha);
        config.put("lora_bias", false);
        config.put("lora_dropout", dropout);
        config.putNull("megatron_config");
        config.put("megatron_core", "megatron.core");
        config.putNull("modules_to_save");
        config.put("peft_type", "LORA");
        config.put("r", rank);
        config.putObject("rank_pattern");
        config.putNull("revision");
        config.put("target_modules", targets);
        config.put("task_type", "CAUSAL_LM");
        config.put("use_dora", false);
        config.put("use_rslora", false);
        LoraAdapter adapter = new LoraAdapter(config, rank, alpha, dropout, false);
        java.util.Random random = new java.util.Random(seed);
        for (Map.Entry<String, long[]> e : WeightNames.expected(model).entrySet()) {
            String weight = e.getKey();
            if (!weight.endsWith(".weight") || !isLinear(weight, e.getValue())) continue;
            String module = weight.substring(0, weight.length() - ".weight".length());
            if (!pattern.matcher(module).matches()) continue;
            int out = (int) e.getValue()[0], in = (int) e.getValue()[1];
            float[] a = new float[rank * in];
            double bound = 1 / Math.sqrt(in);
            for (int i = 0; i < a.length; i++) a[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
            String prefix = PREFIX + module;
            adapter.byWeight.put(weight, new Module(adapter, module, weight,
                    new Param(prefix + A_SUFFIX, new long[] {rank, in}, a, true),
                    new Param(prefix + B_SUFFIX, new long[] {out, rank}, new float[out * rank], true)));
        }
        if (adapter.byWeight.isEmpty()) throw new IllegalArgumentException("no linear layer of the model matches the LoRA targets " + targets);
        return adapter;
    }

    /** Linear weights LoRA can adapt: every 2-D projection (not the embeddings or the patch convolution). */
    private static boolean isLinear(String canonical, long[] shape) {
        return shape.length == 2 && !canonical.endsWith("embed_tokens.weight") && !canonical.endsWith("position_embedding.weight");
    }

    private static String text(ObjectNode config, String key, String dflt) {
        JsonNode v = config.get(key);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static double number(ObjectNode config, Path file, String key, double dflt) {
        JsonNode v = config.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw new CheckpointException(file + ": '" + key + "' must be a number, got " + v);
        return v.asDouble();
    }

    private static void unsupportedUnless(ObjectNode config, Path file, String key, java.util.function.Predicate<JsonNode> ok,
                                          String what) {
        JsonNode v = config.get(key);
        if (v == null || v.isNull() || ok.test(v)) return;
        throw new CheckpointException(file + ": " + key + " = " + v + ": " + what + " is not supported");
    }

    public int rank() {
        return rank;
    }

    public double alpha() {
        return alpha;
    }

    /** The factor on {@code B·A·x}: lora_alpha / r (lora_alpha / √r with rsLoRA). */
    public float scaling() {
        return scaling;
    }

    public double dropout() {
        return dropout;
    }

    /** The adapted modules, sorted by module path (the order of their saved names). */
    public List<Module> modules() {
        return byWeight.values().stream().sorted(java.util.Comparator.comparing(Module::module)).toList();
    }

    /** The module adapting the weight of this canonical name, or null. */
    Module forWeight(String canonicalWeightName) {
        return byWeight.get(canonicalWeightName);
    }

    /** Every A and B, by saved tensor name in sorted order (what an optimizer updates). */
    public List<Param> parameters() {
        List<Param> out = new ArrayList<>();
        for (Module m : byWeight.values()) {
            out.add(m.a);
            out.add(m.b);
        }
        out.sort(java.util.Comparator.comparing(Param::name));
        return Collections.unmodifiableList(out);
    }

    /** Writes {@code adapter_config.json} (as loaded) and {@code adapter_model.safetensors} (float32) into {@code dir}. */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(CONFIG_FILE), pythonJson(config, 0), StandardCharsets.UTF_8);
        writeTensors(dir.resolve(WEIGHTS_FILE), false);
    }

    /** Writes the accumulated gradients of A and B under the adapter's saved tensor names (float32). */
    public void saveGradients(Path file) throws IOException {
        writeTensors(file, true);
    }

    private void writeTensors(Path file, boolean gradients) throws IOException {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Param p : parameters()) {
            entries.add(new SafetensorsWriter.Entry(p.name(), DType.F32, p.shape(),
                    SafetensorsWriter.Content.ofFloats(gradients ? p.grad() : p.value())));
        }
        SafetensorsWriter.write(file, entries, Map.of("format", "pt"));
    }

    /**
     * JSON as Python's {@code json.dumps(indent=2, sort_keys=True)} writes it, the form PEFT saves
     * adapter_config.json in: keys sorted, two-space indent, {@code ": "} and {@code ","} separators.
     */
    static String pythonJson(JsonNode node, int indent) {
        String pad = "  ".repeat(indent + 1), end = "  ".repeat(indent);
        if (node.isObject()) {
            if (node.isEmpty()) return "{}";
            TreeMap<String, JsonNode> sorted = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                sorted.put(e.getKey(), e.getValue());
            }
            StringBuilder sb = new StringBuilder("{\n");
            int i = 0;
            for (Map.Entry<String, JsonNode> e : sorted.entrySet()) {
                sb.append(pad).append(pythonString(e.getKey())).append(": ").append(pythonJson(e.getValue(), indent + 1));
                sb.append(++i < sorted.size() ? ",\n" : "\n");
            }
            return sb.append(end).append('}').toString();
        }
        if (node.isArray()) {
            if (node.isEmpty()) return "[]";
            StringBuilder sb = new StringBuilder("[\n");
            for (int i = 0; i < node.size(); i++) {
                sb.append(pad).append(pythonJson(node.get(i), indent + 1)).append(i + 1 < node.size() ? ",\n" : "\n");
            }
            return sb.append(end).append(']').toString();
        }
        if (node.isTextual()) return pythonString(node.asText());
        return node.toString(); // numbers, booleans, null
    }

    /** A JSON string with non-ASCII characters escaped, as Python's ensure_ascii does. */
    private static String pythonString(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
