package org.paligemma4j.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.paligemma4j.io.Checkpoint;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.io.ModelWeights;
import org.paligemma4j.io.PaliGemmaConfig;
import org.paligemma4j.io.SafeTensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Open and bind a checkpoint, then print what it holds and how long opening took.",
                "With --repeat N the open+bind is timed N times (median reported) with the resident memory it added."})
final class InspectCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR|NPZ",
            description = "Model directory (config.json + safetensors), a Hub id owner/name[@revision], or a big_vision .npz checkpoint.")
    Path model;

    @Option(names = "--config", paramLabel = "FILE", description = "Hugging Face config.json to use instead of the model's.")
    Path config;

    @Option(names = "--repeat", defaultValue = "1", description = "Times to open and bind (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        if (repeat < 1) throw new CliException("--repeat must be at least 1");
        model = HubModels.resolveIfHubId(model);
        long rssBefore = ProcessMemory.residentBytes();
        double[] seconds = new double[repeat];
        Map<DType, Long> bytesByType = new TreeMap<>();
        int tensors = 0;
        int files = 0;
        long rssOpen = 0;
        PaliGemmaConfig loaded = null;
        for (int r = 0; r < repeat; r++) {
            long t0 = System.nanoTime();
            ModelSource source = ModelSource.of(model).withConfig(config);
            if (r == 0 && !json) source = source.withNotes(System.out::println);
            ModelSource.Weights opened = source.openWeights();
            loaded = opened.config();
            try (Checkpoint ckpt = opened.checkpoint()) {
                ModelWeights w = ModelWeights.bind(ckpt, loaded, opened.configName());
                seconds[r] = (System.nanoTime() - t0) / 1e9;
                rssOpen = Math.max(rssOpen, ProcessMemory.residentBytes());
                if (r == 0) {
                    tensors = w.all().size();
                    files = ckpt.files().size();
                    for (SafeTensor t : ckpt.tensors().values()) bytesByType.merge(t.dtype(), t.data().byteSize(), Long::sum);
                }
            }
        }
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        double median = sorted[repeat / 2];
        long total = bytesByType.values().stream().mapToLong(Long::longValue).sum();
        double rssGrowthMb = (rssOpen - rssBefore) / 1e6;
        var t = loaded.text();
        var v = loaded.vision();
        if (json) {
            System.out.printf(Locale.ROOT,
                    "{\"model\":\"%s\",\"decoder\":\"%s\",\"image_size\":%d,\"image_tokens\":%d,\"tensors\":%d,\"files\":%d,"
                            + "\"weight_bytes\":%d,\"open_bind_s_median\":%.4f,\"open_bind_s_first\":%.4f,\"runs\":%d,\"rss_growth_mb\":%.1f}%n",
                    Json.escape(model.toString()), t.modelType(), v.imageSize(), loaded.numImageTokens(), tensors, files,
                    total, median, seconds[0], repeat, rssGrowthMb);
        } else {
            System.out.printf(Locale.ROOT, "%s%n  decoder %s: %d layers, hidden %d, %d heads (%d kv, head_dim %d), vocab %d%n"
                            + "  vision SigLIP: %d layers, width %d, %d px → %d image tokens%n"
                            + "  %d tensors in %d file(s), %.3f GB %s%n"
                            + "  open+bind: %.1f ms median of %d (first %.1f ms); resident memory grew %.1f MB%n",
                    model, t.modelType(), t.numHiddenLayers(), t.hiddenSize(), t.numAttentionHeads(), t.numKeyValueHeads(),
                    t.headDim(), t.vocabSize(), v.numHiddenLayers(), v.hiddenSize(), v.imageSize(), loaded.numImageTokens(),
                    tensors, files, total / 1e9, bytesByType, median * 1e3, repeat, seconds[0] * 1e3, rssGrowthMb);
        }
        return 0;
    }
}
