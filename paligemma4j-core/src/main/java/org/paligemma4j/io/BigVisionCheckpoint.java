package org.paligemma4j.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.paligemma4j.tensor.Parallel;

/**
 * A PaliGemma checkpoint in big_vision's layout (the {@code .npz} of the JAX/Kaggle release) turned into a
 * {@link Checkpoint} under Hugging Face names, so that the model binds it like any other.
 *
 * <p>The archive holds one array per flat key under {@code params/} ({@code img/…} for SigLIP and the projector,
 * {@code llm/…} for Gemma), float32 ({@code <f4}) or bfloat16 stored as raw 2-byte values ({@code |V2}), with the
 * layers of each tower stacked on axis 0 ({@code nn.scan}). The mapping to Hugging Face tensors is the one
 * transformers' PaliGemma 2 converter applies (its attention lines also hold for PaliGemma 1, whose converter
 * only works when heads × head_dim = width and there is one KV head): Flax kernels are {@code [in, out]} and become
 * PyTorch's {@code [out, in]}; einsum weights are split per head and transposed; the norms need no change
 * (both store the RMSNorm scale applied as {@code 1 + scale}). See {@link #convert} for the table.
 *
 * <p>The archive is mapped. Arrays that need no transposition (the embedding — the largest tensor — norms and
 * biases) are used in place when stored uncompressed; transposed matrices are written once into memory this
 * checkpoint owns, layer by layer, and the mapped source pages are released behind them. Deflated members are
 * inflated a layer at a time, so no second copy of the file is ever held.
 *
 * <p>The npz has no config and no tokenizer (the real ones neither): {@link #inferConfig} derives the config
 * from the shapes for the published variants.
 */
public final class BigVisionCheckpoint {
    /** Every key starts with this (big_vision's {@code load_params} tree root). */
    public static final String ROOT = "params/";

    private static final String ENC = "img/Transformer/encoderblock/";
    private static final String ATT = ENC + "MultiHeadDotProductAttention_0/";
    private static final String LAYERS = "llm/layers/";

    private final Path file;
    private final Checkpoint checkpoint;
    private final Map<String, Long> dims;
    private final boolean postNorms;
    private final DType embeddingType;

    private BigVisionCheckpoint(Path file, Checkpoint checkpoint, Map<String, Long> dims, boolean postNorms, DType embeddingType) {
        this.file = file;
        this.checkpoint = checkpoint;
        this.dims = dims;
        this.postNorms = postNorms;
        this.embeddingType = embeddingType;
    }

    /** Whether {@code path} names a big_vision checkpoint file ({@code *.npz}) rather than a model directory. */
    public static boolean isNpz(Path path) {
        return path.getFileName() != null && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npz")
                && !Files.isDirectory(path);
    }

    /** The converted tensors; closing the checkpoint releases the mapping and the converted copies. */
    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** Rows of {@code llm/embedder/input_embedding}: the vocabulary the npz knows (text + loc + seg tokens). */
    public int vocabularyRows() {
        return Math.toIntExact(dims.get("V"));
    }

    /** Reads and converts {@code file}; any problem fails with a {@link CheckpointException} naming the file and key. */
    public static BigVisionCheckpoint open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            ZipArchive zip = ZipArchive.open(file, arena);
            Map<String, NpzArray> arrays = readHeaders(zip);
            Spec spec = Spec.check(file, arrays);
            Map<String, SafeTensor> tensors = new LinkedHashMap<>();
            new Converter(file, zip, arena, arrays, spec.postNorms, tensors).convertAll();
            Checkpoint checkpoint = Checkpoint.of(file, arena, Collections.unmodifiableMap(tensors));
            return new BigVisionCheckpoint(file, checkpoint, spec.dims, spec.postNorms,
                    arrays.get("llm/embedder/input_embedding").dtype);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    // ---------------------------------------------------------------- reading the arrays' headers

    /** One array of the archive: its dtype, shape and where its data starts inside the member. */
    private record NpzArray(String key, ZipArchive.Member member, DType dtype, long[] shape, int dataOffset) {
        long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        long bytes() {
            return elements() * dtype.byteSize();
        }
    }

    private static Map<String, NpzArray> readHeaders(ZipArchive zip) {
        Path file = zip.file();
        Map<String, NpzArray> out = new LinkedHashMap<>();
        List<String> notArrays = new ArrayList<>();
        for (ZipArchive.Member m : zip.members().values()) {
            if (m.name().endsWith("/")) continue; // a directory entry
            if (!m.name().endsWith(".npy")) {
                notArrays.add(m.name());
                continue;
            }
            String full = m.name().substring(0, m.name().length() - 4);
            String where = file + ": array '" + full + "'";
            if (!full.startsWith(ROOT)) {
                throw new CheckpointException(where + " is not under '" + ROOT
                        + "' (not a big_vision PaliGemma checkpoint; its arrays are params/img/… and params/llm/…)");
            }
            NpyHeader h = readHeader(zip, m, where);
            DType dtype = switch (h.dtype()) {
                case "<f4", "=f4" -> DType.F32;
                case "|V2", "<V2", "=V2" -> DType.BF16; // ml_dtypes.bfloat16 saved by np.save: raw bits as void
                case "<f2", "=f2" -> DType.F16;
                default -> throw new CheckpointException(where + ": dtype '" + h.dtype() + "' is not supported (big_vision "
                        + "weights are float32 '<f4' or bfloat16 stored as raw 2-byte values '|V2')");
            };
            long elements = h.elementCount();
            if (elements > (m.size() - h.dataOffset()) / dtype.byteSize() || elements * dtype.byteSize() != m.size() - h.dataOffset()) {
                throw new CheckpointException(where + ": shape " + Arrays.toString(h.shape()) + " of " + h.dtype() + " needs "
                        + (elements <= Long.MAX_VALUE / 4 ? elements * dtype.byteSize() + " bytes" : "more bytes than any file holds")
                        + " but the member holds " + (m.size() - h.dataOffset()) + " after its header (truncated or damaged)");
            }
            out.put(full.substring(ROOT.length()), new NpzArray(full, m, dtype, h.shape(), h.dataOffset()));
        }
        if (!notArrays.isEmpty() && out.isEmpty()) {
            throw new CheckpointException(file + ": the archive holds no .npy arrays (members: "
                    + String.join(", ", notArrays.subList(0, Math.min(5, notArrays.size()))) + ")");
        }
        return out;
    }

    private static NpyHeader readHeader(ZipArchive zip, ZipArchive.Member m, String where) {
        try (ZipArchive.MemberReader r = zip.reader(m); Arena scratch = Arena.ofConfined()) {
            int preambleSize = (int) Math.min(NpyHeader.PREAMBLE_BYTES, m.size());
            MemorySegment preamble = scratch.allocate(Math.max(1, preambleSize));
            r.readFully(preamble.asSlice(0, preambleSize));
            byte[] first = Arrays.copyOf(preamble.toArray(ValueLayout.JAVA_BYTE), NpyHeader.PREAMBLE_BYTES);
            int length = NpyHeader.headerLength(first, preambleSize, where);
            if (length > m.size()) {
                throw new CheckpointException(where + ": .npy header of " + length + " bytes runs past the member's "
                        + m.size() + " bytes");
            }
            MemorySegment header = scratch.allocate(length);
            MemorySegment.copy(preamble, 0, header, 0, Math.min(preambleSize, length));
            if (length > preambleSize) r.readFully(header.asSlice(preambleSize, length - preambleSize));
            return NpyHeader.parse(header.toArray(ValueLayout.JAVA_BYTE), length, where);
        }
    }

    // ---------------------------------------------------------------- the expected key set and shapes

    /**
     * The arrays a PaliGemma checkpoint must hold, each with its shape in named dimensions. The first array to
     * mention a dimension fixes it; every later one must agree, so a wrong shape is reported at its key.
     */
    private static final class Spec {
        final Map<String, Long> dims = new LinkedHashMap<>();
        final Map<String, String> boundBy = new LinkedHashMap<>();
        boolean postNorms;

        static final String[][] VISION = {
                {"img/embedding/kernel", "p p C Dv"},
                {"img/embedding/bias", "Dv"},
                {"img/pos_embedding", "1 N Dv"},
                {ENC + "LayerNorm_0/scale", "Lv Dv"},
                {ENC + "LayerNorm_0/bias", "Lv Dv"},
                {ENC + "LayerNorm_1/scale", "Lv Dv"},
                {ENC + "LayerNorm_1/bias", "Lv Dv"},
                {ENC + "MlpBlock_0/Dense_0/kernel", "Lv Dv Iv"},
                {ENC + "MlpBlock_0/Dense_0/bias", "Lv Iv"},
                {ENC + "MlpBlock_0/Dense_1/kernel", "Lv Iv Dv"},
                {ENC + "MlpBlock_0/Dense_1/bias", "Lv Dv"},
                {ATT + "query/kernel", "Lv Dv Hv hdv"},
                {ATT + "query/bias", "Lv Hv hdv"},
                {ATT + "key/kernel", "Lv Dv Hv hdv"},
                {ATT + "key/bias", "Lv Hv hdv"},
                {ATT + "value/kernel", "Lv Dv Hv hdv"},
                {ATT + "value/bias", "Lv Hv hdv"},
                {ATT + "out/kernel", "Lv Hv hdv Dv"},
                {ATT + "out/bias", "Lv Dv"},
                {"img/Transformer/encoder_norm/scale", "Dv"},
                {"img/Transformer/encoder_norm/bias", "Dv"},
                {"img/head/kernel", "Dv D"},
                {"img/head/bias", "D"},
        };
        static final String[][] TEXT = {
                {"llm/final_norm/scale", "D"},
                {"llm/embedder/input_embedding", "V D"},
                {LAYERS + "pre_attention_norm/scale", "L D"},
                {LAYERS + "attn/attn_vec_einsum/w", "L H hd D"},
                {LAYERS + "mlp/gating_einsum", "L 2 D I"},
                {LAYERS + "mlp/linear", "L I D"},
                {LAYERS + "pre_ffw_norm/scale", "L D"},
        };
        static final String[][] SEPARATE_QKV = {
                {LAYERS + "attn/q_einsum/w", "L H D hd"},
                {LAYERS + "attn/kv_einsum/w", "L 2 KV D hd"},
        };
        /** big_vision's Gemma stores one qkv_einsum when there are as many KV heads as query heads. */
        static final String[][] JOINT_QKV = {{LAYERS + "attn/qkv_einsum/w", "L 3 H D hd"}};
        static final String[][] POST_NORMS = {
                {LAYERS + "post_attention_norm/scale", "L D"},
                {LAYERS + "post_ffw_norm/scale", "L D"},
        };

        static Spec check(Path file, Map<String, NpzArray> arrays) {
            Spec s = new Spec();
            List<String[]> required = new ArrayList<>();
            required.addAll(List.of(VISION));
            required.addAll(List.of(TEXT));
            boolean joint = arrays.containsKey(JOINT_QKV[0][0]) && !arrays.containsKey(SEPARATE_QKV[0][0]);
            required.addAll(List.of(joint ? JOINT_QKV : SEPARATE_QKV));
            s.postNorms = arrays.containsKey(POST_NORMS[0][0]) || arrays.containsKey(POST_NORMS[1][0]);
            if (s.postNorms) required.addAll(List.of(POST_NORMS));

            List<String> missing = new ArrayList<>();
            for (String[] r : required) if (!arrays.containsKey(r[0])) missing.add(ROOT + r[0]);
            if (!missing.isEmpty()) {
                throw new CheckpointException(file + ": missing " + (missing.size() == 1 ? "array " : missing.size() + " arrays ")
                        + String.join(", ", missing.subList(0, Math.min(8, missing.size())))
                        + (missing.size() > 8 ? ", …" : "") + " (big_vision PaliGemma layout"
                        + (s.postNorms ? ", PaliGemma 2: post_attention_norm/post_ffw_norm present" : "") + ")");
            }
            TreeSet<String> unexpected = new TreeSet<>(arrays.keySet());
            for (String[] r : required) unexpected.remove(r[0]);
            if (!unexpected.isEmpty()) {
                List<String> shown = unexpected.stream().limit(8).map(k -> ROOT + k).toList();
                throw new CheckpointException(file + ": unexpected " + (unexpected.size() == 1 ? "array " : unexpected.size() + " arrays ")
                        + String.join(", ", shown) + (unexpected.size() > 8 ? ", …" : "")
                        + " (not part of a big_vision PaliGemma checkpoint)");
            }
            for (String[] r : required) s.bind(file, r[0], r[1], arrays.get(r[0]).shape);
            if (joint) s.dims.put("KV", s.dims.get("H"));
            s.checkDerived(file, arrays);
            return s;
        }

        void bind(Path file, String key, String pattern, long[] shape) {
            String[] names = pattern.split(" ");
            String where = file + ": array '" + ROOT + key + "'";
            if (shape.length != names.length) {
                throw new CheckpointException(where + " has shape " + Arrays.toString(shape) + ", expected rank "
                        + names.length + " [" + String.join(", ", names) + "]");
            }
            for (int i = 0; i < names.length; i++) {
                String n = names[i];
                if (Character.isDigit(n.charAt(0))) {
                    if (shape[i] != Long.parseLong(n)) {
                        throw new CheckpointException(where + " has shape " + Arrays.toString(shape) + ", expected ["
                                + String.join(", ", names) + "] with " + n + " at axis " + i);
                    }
                    continue;
                }
                Long known = dims.get(n);
                if (known == null) {
                    if (shape[i] <= 0) throw new CheckpointException(where + " has shape " + Arrays.toString(shape) + " with an empty axis " + i);
                    dims.put(n, shape[i]);
                    boundBy.put(n, key);
                } else if (known != shape[i]) {
                    throw new CheckpointException(where + " has shape " + Arrays.toString(shape) + ", expected ["
                            + String.join(", ", names) + "] with " + n + " = " + known + " (as in '" + ROOT + boundBy.get(n) + "')");
                }
            }
        }

        private void checkDerived(Path file, Map<String, NpzArray> arrays) {
            long dv = dims.get("Dv"), n = dims.get("N"), side = Math.round(Math.sqrt(n));
            if (dims.get("Hv") * dims.get("hdv") != dv) {
                throw new CheckpointException(file + ": array '" + ROOT + ATT + "query/kernel' has " + dims.get("Hv") + " heads of "
                        + dims.get("hdv") + ", which does not make the vision width " + dv);
            }
            if (side * side != n) {
                throw new CheckpointException(file + ": array '" + ROOT + "img/pos_embedding' has " + n
                        + " positions, not a square grid of patches");
            }
            if (dims.get("H") % dims.get("KV") != 0) {
                throw new CheckpointException(file + ": array '" + ROOT + SEPARATE_QKV[1][0] + "' has " + dims.get("KV")
                        + " KV heads, which does not divide the " + dims.get("H") + " query heads");
            }
            for (String d : List.of("D", "V", "I", "hd", "Dv", "Iv", "L", "Lv", "H", "Hv", "p", "C")) {
                if (dims.get(d) > Integer.MAX_VALUE / 4) {
                    throw new CheckpointException(file + ": array '" + ROOT + boundBy.get(d) + "' has a dimension of "
                            + dims.get(d) + ", too large for a model");
                }
            }
        }
    }

    // ---------------------------------------------------------------- conversion

    /** Walks the arrays in archive order and writes the Hugging Face tensors. */
    private static final class Converter {
        private final Path file;
        private final ZipArchive zip;
        private final Arena arena;
        private final Map<String, NpzArray> arrays;
        private final boolean postNorms;
        private final Map<String, SafeTensor> out;

        Converter(Path file, ZipArchive zip, Arena arena, Map<String, NpzArray> arrays, boolean postNorms,
                  Map<String, SafeTensor> out) {
            this.file = file;
            this.zip = zip;
            this.arena = arena;
            this.arrays = arrays;
            this.postNorms = postNorms;
            this.out = out;
        }

        void convertAll() {
            for (Map.Entry<String, NpzArray> e : arrays.entrySet()) {
                try (Slabs slabs = new Slabs(zip, arena, e.getValue())) {
                    convert(e.getKey(), e.getValue(), slabs);
                }
            }
        }

        /**
         * The mapping, per npz key (under {@code params/}); i = layer, H/KV/hd = heads, KV heads, head size:
         * <pre>
         * img/embedding/kernel [p,p,C,Dv]            patch_embedding.weight = transpose(3,2,0,1)
         * img/pos_embedding [1,N,Dv]                 position_embedding.weight = reshape(N, Dv)
         * …/LayerNorm_0, LayerNorm_1 [Lv,Dv]         layer_norm1, layer_norm2 (weight = scale)
         * …/Dense_0, Dense_1 kernel [Lv,in,out]      mlp.fc1, fc2 .weight = kernel[i].T
         * …/{query,key,value}/kernel [Lv,Dv,Hv,hd]   {q,k,v}_proj.weight = kernel[i].reshape(Dv, Hv·hd).T
         * …/out/kernel [Lv,Hv,hd,Dv]                 out_proj.weight = kernel[i].reshape(Hv·hd, Dv).T
         * img/head/kernel [Dv,D]                     multi_modal_projector.linear.weight = kernel.T
         * llm/embedder/input_embedding [V,D]         embed_tokens.weight (tied LM head)
         * llm/layers/attn/q_einsum/w [L,H,D,hd]      q_proj.weight = w[i].transpose(0,2,1).reshape(H·hd, D)
         * llm/layers/attn/kv_einsum/w [L,2,KV,D,hd]  k_proj / v_proj from w[i,0] / w[i,1], likewise
         * llm/layers/attn/attn_vec_einsum/w [L,H,hd,D]  o_proj.weight = w[i].reshape(H·hd, D).T
         * llm/layers/mlp/gating_einsum [L,2,D,I]     gate_proj / up_proj = w[i,0].T / w[i,1].T
         * llm/layers/mlp/linear [L,I,D]              down_proj.weight = w[i].T
         * llm/layers/pre_attention_norm             input_layernorm
         * llm/layers/pre_ffw_norm                   PaliGemma 1: post_attention_layernorm; 2: pre_feedforward_layernorm
         * llm/layers/post_attention_norm, post_ffw_norm   (PaliGemma 2) post_attention_layernorm, post_feedforward_layernorm
         * </pre>
         * Biases and norm scales of stacked layers are the rows of their array.
         */
        private void convert(String key, NpzArray a, Slabs s) {
            long[] sh = a.shape;
            switch (key) {
                case "img/embedding/kernel" -> {
                    // [p, p, C, Dv] → [Dv, C, p, p]: out[d, c, y·p + x] = in[y·p + x, c, d]
                    long pp = sh[0] * sh[1], c = sh[2], dv = sh[3];
                    MemorySegment src = s.whole();
                    MemorySegment dst = allocate(a.bytes());
                    int e = a.dtype.byteSize();
                    for (long pos = 0; pos < pp; pos++) {
                        for (long ch = 0; ch < c; ch++) {
                            for (long d = 0; d < dv; d++) {
                                copyElement(src, ((pos * c + ch) * dv + d) * e, dst, ((d * c + ch) * pp + pos) * e, e);
                            }
                        }
                    }
                    put(WeightNames.vision("embeddings.patch_embedding.weight"), a, dst, dv, c, sh[0], sh[1]);
                }
                case "img/embedding/bias" -> put(WeightNames.vision("embeddings.patch_embedding.bias"), a, s.whole(), sh[0]);
                case "img/pos_embedding" -> put(WeightNames.vision("embeddings.position_embedding.weight"), a, s.whole(), sh[1], sh[2]);
                case "img/Transformer/encoder_norm/scale" -> put(WeightNames.vision("post_layernorm.weight"), a, s.whole(), sh[0]);
                case "img/Transformer/encoder_norm/bias" -> put(WeightNames.vision("post_layernorm.bias"), a, s.whole(), sh[0]);
                case "img/head/kernel" -> put(WeightNames.projector("weight"), a, transposed(s.whole(), sh[0], sh[1], a), sh[1], sh[0]);
                case "img/head/bias" -> put(WeightNames.projector("bias"), a, s.whole(), sh[0]);
                case ENC + "LayerNorm_0/scale" -> perLayerVector(a, s, i -> WeightNames.visionLayer(i, "layer_norm1.weight"));
                case ENC + "LayerNorm_0/bias" -> perLayerVector(a, s, i -> WeightNames.visionLayer(i, "layer_norm1.bias"));
                case ENC + "LayerNorm_1/scale" -> perLayerVector(a, s, i -> WeightNames.visionLayer(i, "layer_norm2.weight"));
                case ENC + "LayerNorm_1/bias" -> perLayerVector(a, s, i -> WeightNames.visionLayer(i, "layer_norm2.bias"));
                case ENC + "MlpBlock_0/Dense_0/kernel" -> perLayerTransposed(a, s, i -> WeightNames.visionLayer(i, "mlp.fc1.weight"));
                case ENC + "MlpBlock_0/Dense_0/bias" -> perLayerVector(a, s, i -> WeightNames.visionLayer(i, "mlp.fc1.bias"));
                case ENC + "MlpBlock_0/Dense_1/kernel" -> perLayerTransposed(a, s, i -> WeightNames.visionLayer(i, "mlp.fc2.weight"));
                case ENC + "MlpBlock_0/Dense_1/bias" -> perLayerVector(a, s, i -> WeightNames.visionLayer(i, "mlp.fc2.bias"));
                case ATT + "query/kernel" -> perLayerTransposed(a, s, i -> WeightNames.visionLayer(i, "self_attn.q_proj.weight"));
                case ATT + "key/kernel" -> perLayerTransposed(a, s, i -> WeightNames.visionLayer(i, "self_attn.k_proj.weight"));
                case ATT + "value/kernel" -> perLayerTransposed(a, s, i -> WeightNames.visionLayer(i, "self_attn.v_proj.weight"));
                case ATT + "out/kernel" -> perLayerTransposed(a, s, i -> WeightNames.visionLayer(i, "self_attn.out_proj.weight"));
                case ATT + "query/bias" -> perLayerVector(a, s, i -> WeightNames.visionLayer(i, "self_attn.q_proj.bias"));
                case ATT + "key/bias" -> perLayerVector(a, s, i -> WeightNames.visionLayer(i, "self_attn.k_proj.bias"));
                case ATT + "value/bias" -> perLayerVector(a, s, i -> WeightNames.visionLayer(i, "self_attn.v_proj.bias"));
                case ATT + "out/bias" -> perLayerVector(a, s, i -> WeightNames.visionLayer(i, "self_attn.out_proj.bias"));

                case "llm/embedder/input_embedding" -> put(WeightNames.text("embed_tokens.weight"), a, s.whole(), sh[0], sh[1]);
                case "llm/final_norm/scale" -> put(WeightNames.text("norm.weight"), a, s.whole(), sh[0]);
                case LAYERS + "pre_attention_norm/scale" -> perLayerVector(a, s, i -> WeightNames.textLayer(i, "input_layernorm.weight"));
                case LAYERS + "pre_ffw_norm/scale" -> perLayerVector(a, s, i -> WeightNames.textLayer(i,
                        postNorms ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"));
                case LAYERS + "post_attention_norm/scale" -> perLayerVector(a, s, i -> WeightNames.textLayer(i, "post_attention_layernorm.weight"));
                case LAYERS + "post_ffw_norm/scale" -> perLayerVector(a, s, i -> WeightNames.textLayer(i, "post_feedforward_layernorm.weight"));
                case LAYERS + "attn/q_einsum/w" -> perLayerHeads(a, s, 1, sh[1], sh[2], sh[3], "q_proj");
                case LAYERS + "attn/kv_einsum/w" -> perLayerHeads(a, s, 2, sh[2], sh[3], sh[4], "k_proj", "v_proj");
                case LAYERS + "attn/qkv_einsum/w" -> perLayerHeads(a, s, 3, sh[2], sh[3], sh[4], "q_proj", "k_proj", "v_proj");
                case LAYERS + "attn/attn_vec_einsum/w" -> perLayerTransposed(a, s, i -> WeightNames.textLayer(i, "self_attn.o_proj.weight"));
                case LAYERS + "mlp/gating_einsum" -> {
                    long d = sh[2], inter = sh[3];
                    for (int i = 0; i < sh[0]; i++) {
                        MemorySegment slab = s.next(); // [2, D, I]
                        long half = d * inter * a.dtype.byteSize();
                        put(WeightNames.textLayer(i, "mlp.gate_proj.weight"), a, transposed(slab.asSlice(0, half), d, inter, a), inter, d);
                        put(WeightNames.textLayer(i, "mlp.up_proj.weight"), a, transposed(slab.asSlice(half, half), d, inter, a), inter, d);
                        s.release(slab);
                    }
                }
                case LAYERS + "mlp/linear" -> perLayerTransposed(a, s, i -> WeightNames.textLayer(i, "mlp.down_proj.weight"));
                default -> throw new IllegalStateException("no mapping for checked key " + key);
            }
        }

        private interface LayerName {
            String of(int layer);
        }

        /** [L, …] → one tensor per layer holding its row as is (biases, norm scales). */
        private void perLayerVector(NpzArray a, Slabs s, LayerName name) {
            long[] rest = Arrays.copyOfRange(a.shape, 1, a.shape.length);
            long n = 1;
            for (long d : rest) n *= d;
            for (int i = 0; i < a.shape[0]; i++) put(name.of(i), a, s.nextKept(), n);
        }

        /** [L, a…, b] (or [L, a, b…]) kernels whose layer is an [in, out] matrix → [out, in] per layer. */
        private void perLayerTransposed(NpzArray a, Slabs s, LayerName name) {
            long[] sh = a.shape;
            // Flax stores [in, out]; the split between in and out axes is at the model width for attention kernels.
            long rows, cols;
            if (sh.length == 3) {
                rows = sh[1];
                cols = sh[2];
            } else if (a.key.endsWith("query/kernel") || a.key.endsWith("key/kernel") || a.key.endsWith("value/kernel")) {
                rows = sh[1];
                cols = sh[2] * sh[3]; // [Dv, Hv, hd] → in Dv, out Hv·hd
            } else {
                rows = sh[1] * sh[2];
                cols = sh[3]; // [H, hd, D] → in H·hd, out D
            }
            for (int i = 0; i < sh[0]; i++) {
                MemorySegment slab = s.next();
                put(name.of(i), a, transposed(slab, rows, cols, a), cols, rows);
                s.release(slab);
            }
        }

        /**
         * Gemma's einsum weights {@code [L, parts, heads, D, hd]} → per layer and part a {@code [heads·hd, D]} matrix:
         * each head's {@code [D, hd]} block transposed to {@code [hd, D]}.
         */
        private void perLayerHeads(NpzArray a, Slabs s, int parts, long heads, long d, long hd, String... projections) {
            int e = a.dtype.byteSize();
            long block = d * hd * e;
            for (int i = 0; i < a.shape[0]; i++) {
                MemorySegment slab = s.next();
                for (int part = 0; part < parts; part++) {
                    MemorySegment dst = allocate(heads * block);
                    for (long h = 0; h < heads; h++) {
                        long at = (part * heads + h) * block;
                        transpose(slab.asSlice(at, block), d, hd, dst.asSlice(h * block, block), e);
                    }
                    put(WeightNames.textLayer(i, "self_attn." + projections[part] + ".weight"), a, dst, heads * hd, d);
                }
                s.release(slab);
            }
        }

        private MemorySegment transposed(MemorySegment src, long rows, long cols, NpzArray a) {
            MemorySegment dst = allocate(rows * cols * a.dtype.byteSize());
            transpose(src, rows, cols, dst, a.dtype.byteSize());
            return dst;
        }

        private MemorySegment allocate(long bytes) {
            return arena.allocate(Math.max(1, bytes), 64).asSlice(0, bytes);
        }

        private void put(String name, NpzArray a, MemorySegment data, long... shape) {
            out.put(name, new SafeTensor(name, a.dtype, shape, data, file));
        }
    }

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static void copyElement(MemorySegment src, long from, MemorySegment dst, long to, int e) {
        if (e == 4) dst.set(I32, to, src.get(I32, from));
        else dst.set(I16, to, src.get(I16, from));
    }

    /**
     * {@code dst[c, r] = src[r, c]} for a row-major {@code [rows, cols]} matrix of e-byte elements, in cache-sized
     * tiles, the bands of output rows shared among the worker threads (converting a 3B checkpoint transposes ~5 GB).
     */
    static void transpose(MemorySegment src, long rows, long cols, MemorySegment dst, int e) {
        final int tile = 32;
        int bands = (int) ((cols + tile - 1) / tile);
        if (rows * cols < (1 << 16)) {
            transposeBands(src, rows, cols, dst, e, 0, bands, tile);
        } else {
            Parallel.forRange(bands, 4, (from, to) -> transposeBands(src, rows, cols, dst, e, from, to, tile));
        }
    }

    private static void transposeBands(MemorySegment src, long rows, long cols, MemorySegment dst, int e, int fromBand,
                                       int toBand, int tile) {
        for (long c0 = (long) fromBand * tile; c0 < Math.min(cols, (long) toBand * tile); c0 += tile) {
            long c1 = Math.min(cols, c0 + tile);
            for (long r0 = 0; r0 < rows; r0 += tile) {
                long r1 = Math.min(rows, r0 + tile);
                for (long r = r0; r < r1; r++) {
                    if (e == 4) {
                        for (long c = c0; c < c1; c++) dst.set(I32, (c * rows + r) * 4, src.get(I32, (r * cols + c) * 4));
                    } else {
                        for (long c = c0; c < c1; c++) dst.set(I16, (c * rows + r) * 2, src.get(I16, (r * cols + c) * 2));
                    }
                }
            }
        }
    }

    /**
     * An array's data, front to back, one slab of axis 0 at a time. A stored member's slabs are slices of the
     * mapping; a deflated member's are inflated into one reused buffer (so a slab must be consumed before the next
     * is taken), or, for {@link #whole}, into memory the checkpoint keeps.
     */
    private static final class Slabs implements AutoCloseable {
        private final NpzArray array;
        private final Arena keep;
        private final MemorySegment stored;
        private final ZipArchive.MemberReader reader;
        private final Arena scratch;
        private MemorySegment buffer;
        private long next;

        Slabs(ZipArchive zip, Arena keep, NpzArray array) {
            this.array = array;
            this.keep = keep;
            if (array.member.method() == ZipArchive.STORED) {
                stored = zip.storedData(array.member).asSlice(array.dataOffset, array.bytes());
                reader = null;
                scratch = null;
            } else {
                stored = null;
                reader = zip.reader(array.member);
                scratch = Arena.ofShared(); // its slabs are transposed by the worker threads
                reader.readFully(scratch.allocate(array.dataOffset)); // skip the .npy header
            }
        }

        private long slabBytes() {
            return array.shape.length == 0 || array.shape[0] == 0 ? array.bytes() : array.bytes() / array.shape[0];
        }

        /** The next slab of axis 0. */
        MemorySegment next() {
            long n = slabBytes();
            if (stored != null) {
                MemorySegment s = stored.asSlice(next, n);
                next += n;
                return s;
            }
            if (buffer == null) buffer = scratch.allocate(Math.max(1, n), 64).asSlice(0, n);
            reader.readFully(buffer);
            next += n;
            return buffer;
        }

        /** The next slab of axis 0, to keep (a slice of the mapping, or inflated into kept memory). */
        MemorySegment nextKept() {
            if (stored != null) return next();
            long n = slabBytes();
            MemorySegment slab = keep.allocate(Math.max(1, n), 64).asSlice(0, n);
            reader.readFully(slab);
            next += n;
            return slab;
        }

        /** The whole array, to keep (a slice of the mapping, or inflated into kept memory). */
        MemorySegment whole() {
            if (stored != null) return stored;
            MemorySegment all = keep.allocate(Math.max(1, array.bytes()), 64).asSlice(0, array.bytes());
            reader.readFully(all);
            return all;
        }

        /** A slab that was copied elsewhere: its mapped pages may leave memory. */
        void release(MemorySegment slab) {
            if (slab.isMapped()) slab.unload();
        }

        @Override
        public void close() {
            if (reader != null) reader.close();
            if (scratch != null) scratch.close();
        }
    }

    // ---------------------------------------------------------------- config inference

    /** A config inferred from the shapes, and the lines that tell the user what was inferred and why. */
    public record InferredConfig(PaliGemmaConfig config, List<String> explanation) {}

    /**
     * The config of a published PaliGemma with these shapes: PaliGemma 2 (Gemma 2) when the extra post-attention and
     * post-FFW norms are present, else PaliGemma 1 (Gemma); sizes and heads from the arrays; image size from the
     * position embeddings. When the shapes are those of a published checkpoint, its config.json is used as is (Gemma 2's
     * soft caps 50/30, sliding window 4096 and its query scaling); otherwise the published Gemma 2 values are assumed.
     * The vocabulary is the npz's: {@link #vocabularyRows()}, the {@code <image>} token's id.
     */
    public InferredConfig inferConfig() {
        return infer(file, dims, postNorms, embeddingType);
    }

    /** {@link #inferConfig} from the named dimensions of {@link Spec} (p, C, Dv, N, Iv, Lv, Hv, D, V, L, H, KV, hd, I). */
    static InferredConfig infer(Path file, Map<String, Long> dims, boolean postNorms, DType embeddingType) {
        java.util.function.ToIntFunction<String> dim = name -> Math.toIntExact(dims.get(name));
        List<String> why = new ArrayList<>();
        int dv = dim.applyAsInt("Dv"), patch = dim.applyAsInt("p"), side = (int) Math.round(Math.sqrt(dims.get("N")));
        int d = dim.applyAsInt("D"), layers = dim.applyAsInt("L"), heads = dim.applyAsInt("H"), kv = dim.applyAsInt("KV"), hd = dim.applyAsInt("hd"), vocab = dim.applyAsInt("V");
        VisionConfig vision = new VisionConfig(dv, dim.applyAsInt("Iv"), dim.applyAsInt("Lv"), dim.applyAsInt("Hv"), dim.applyAsInt("C"), side * patch, patch, 1e-6,
                "gelu_pytorch_tanh", d);
        String published = null;
        for (String name : KnownModels.names()) {
            PaliGemmaConfig k = PaliGemmaConfig.parse(new JsonFields(parseJson(KnownModels.file(name, "config.json")), name));
            TextConfig t = k.text();
            if (t.isGemma2() == postNorms && t.hiddenSize() == d && t.numHiddenLayers() == layers && t.numAttentionHeads() == heads
                    && t.numKeyValueHeads() == kv && t.headDim() == hd && t.intermediateSize() == dim.applyAsInt("I")
                    && k.vision().equals(vision)) {
                published = name;
                PaliGemmaConfig c = k.withText(t.withVocabSize(vocab)).withImageTokenIndex(vocab).withTorchDtype(dtypeName(embeddingType));
                why.add(String.format(Locale.ROOT, "%s: no config given; the shapes are those of the published %s, so its "
                        + "config.json is used (vocabulary %d from llm/embedder/input_embedding)", file, name, vocab));
                return new InferredConfig(c, describe(c, why));
            }
        }
        boolean gemma2 = postNorms;
        int pad = 0, bos = 2, eos = 1;
        boolean[] sliding = new boolean[layers];
        for (int i = 0; i < layers; i++) sliding[i] = gemma2 && i % 2 == 0;
        // Gemma 2 27B scales queries by 1/sqrt(hidden / heads) (144), the smaller Gemma 2s by 1/sqrt(head_dim).
        double queryScalar = gemma2 && d == 4608 && heads == 32 ? (double) d / heads : hd;
        TextConfig text = new TextConfig(gemma2 ? "gemma2" : "gemma", vocab, d, dim.applyAsInt("I"), layers, heads, kv, hd, 1e-6, 10000.0,
                8192, "gelu_pytorch_tanh", queryScalar, gemma2 ? 50.0 : null, gemma2 ? 30.0 : null, gemma2 ? 4096 : null,
                sliding, gemma2, false, true);
        PaliGemmaConfig c = new PaliGemmaConfig(vision, text, d, vocab, pad, bos, new int[] {eos}, dtypeName(embeddingType));
        why.add(file + ": no config given; inferred from the array shapes (they match no published checkpoint exactly)"
                + (gemma2 ? "; Gemma 2 settings as published: attention soft cap 50, final soft cap 30, sliding window 4096"
                        + " on even layers, query_pre_attn_scalar " + fmt(queryScalar) : "")
                + "; pass --config config.json if these differ");
        return new InferredConfig(c, describe(c, why));
    }

    private static List<String> describe(PaliGemmaConfig c, List<String> why) {
        TextConfig t = c.text();
        VisionConfig v = c.vision();
        List<String> lines = new ArrayList<>(why);
        lines.add(String.format(Locale.ROOT, "  PaliGemma %d: %s decoder, %d layers, hidden %d, %d heads (%d KV, head_dim %d), "
                        + "MLP %d, vocabulary %d%s", t.isGemma2() ? 2 : 1, t.modelType(), t.numHiddenLayers(), t.hiddenSize(),
                t.numAttentionHeads(), t.numKeyValueHeads(), t.headDim(), t.intermediateSize(), t.vocabSize(),
                t.isGemma2() ? String.format(Locale.ROOT, ", soft caps %s/%s, sliding window %s, query_pre_attn_scalar %s",
                        fmt(t.attnLogitSoftcap()), fmt(t.finalLogitSoftcap()), t.slidingWindow(), fmt(t.queryPreAttnScalar())) : ""));
        lines.add(String.format(Locale.ROOT, "  SigLIP: %d layers, width %d, %d heads, MLP %d, %d px (patch %d → %d image tokens)",
                v.numHiddenLayers(), v.hiddenSize(), v.numAttentionHeads(), v.intermediateSize(), v.imageSize(), v.patchSize(),
                v.numImageTokens()));
        return Collections.unmodifiableList(lines);
    }

    private static String fmt(Double x) {
        return x == null ? "none" : x == Math.rint(x) ? Long.toString(x.longValue()) : x.toString();
    }

    private static String dtypeName(DType embeddingType) {
        return embeddingType == DType.BF16 ? "bfloat16" : embeddingType == DType.F16 ? "float16" : "float32";
    }

    private static com.fasterxml.jackson.databind.JsonNode parseJson(String text) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * {@code config} fitted to this checkpoint's vocabulary: Hugging Face configs count the {@code <image>} token
     * and padding rows (257,216) that big_vision's embedding does not have (257,152); the npz's rows are the model's
     * vocabulary then. Returns {@code config} unchanged when it already fits (or is smaller, which binding reports).
     */
    public PaliGemmaConfig fitVocabulary(PaliGemmaConfig config, List<String> notes) {
        int rows = vocabularyRows();
        if (config.text().vocabSize() <= rows) return config;
        notes.add(String.format(Locale.ROOT, "%s: the config's vocab_size %d counts rows the big_vision embedding does not have "
                + "(<image> and padding); using its %d rows", file, config.text().vocabSize(), rows));
        return config.withText(config.text().withVocabSize(rows));
    }
}
