package org.paligemma4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.paligemma4j.scenes.SceneDataset;
import org.paligemma4j.scenes.SceneScores;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "scenes-score", mixinStandardHelpOptions = true,
        description = {"Score a model's answers on a 'paligemma scenes' folder: exact match per task (caption, count, colour, ocr)"
                + " and detection precision/recall at IoU 0.5 with the right label, in percent, as one JSON line.",
                "The answers are the output of 'paligemma generate --requests DIR/requests.jsonl --json' (one {\"text\"} line per example)"
                        + " or the --predictions of 'paligemma eval --data DIR/data.jsonl' ({\"prediction\"}; with --quantized, its"
                        + " \"quantized_prediction\" from --compare-quant)."})
final class ScenesScoreCommand implements Callable<Integer> {

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "A folder written by 'paligemma scenes'.")
    Path data;

    @Option(names = "--predictions", required = true, paramLabel = "FILE.jsonl", description = "The answers, line for line.")
    Path predictions;

    @Option(names = "--quantized", description = "Score the \"quantized_prediction\" of eval --compare-quant's predictions.")
    boolean quantized;

    @Option(names = "--step", paramLabel = "N", description = "A training step to report with the scores.")
    Integer step;

    @Override
    public Integer call() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path dataFile = data.resolve(SceneDataset.DATA);
        List<String> examples = Files.readAllLines(dataFile).stream().filter(l -> !l.isBlank()).toList();
        List<String> answers = Files.readAllLines(predictions).stream().filter(l -> !l.isBlank()).toList();
        if (examples.size() != answers.size()) {
            throw new CliException(predictions + ": " + answers.size() + " answers for the " + examples.size() + " examples of " + dataFile);
        }
        // Boxes are compared in [0, 1] coordinates, so each picture's size comes from truth.jsonl.
        java.util.Map<String, Integer> sizes = new java.util.HashMap<>();
        for (String l : Files.readAllLines(data.resolve(SceneDataset.TRUTH))) {
            if (l.isBlank()) continue;
            JsonNode t = json.readTree(l);
            sizes.put(t.path("image").asText(), t.path("size").asInt());
        }
        SceneScores scores = new SceneScores();
        for (int i = 0; i < examples.size(); i++) {
            JsonNode e = json.readTree(examples.get(i));
            Integer size = sizes.get(e.path("image").asText());
            if (size == null || size < 1) {
                throw new CliException(data.resolve(SceneDataset.TRUTH) + ": no size for " + e.path("image").asText() + " (line " + (i + 1) + " of " + dataFile + ")");
            }
            JsonNode a = json.readTree(answers.get(i));
            String field = quantized ? "quantized_prediction" : a.has("text") ? "text" : "prediction";
            if (!a.has(field)) {
                throw new CliException(predictions + ": line " + (i + 1) + " has no \"" + field + "\""
                        + (quantized ? " (the predictions of eval --compare-quant have it)" : " (nor \"text\")"));
            }
            if (a.has("prefix") && !a.get("prefix").asText().equals(e.path("prefix").asText())) {
                throw new CliException(predictions + ": line " + (i + 1) + " answers \"" + a.get("prefix").asText() + "\", but line "
                        + (i + 1) + " of " + dataFile + " asks \"" + e.path("prefix").asText() + "\"");
            }
            scores.add(e.path("prefix").asText(), e.path("suffix").asText(), a.get(field).asText(), size);
        }
        StringBuilder line = new StringBuilder("{");
        if (step != null) line.append("\"step\":").append(step).append(',');
        line.append("\"examples\":").append(examples.size());
        scores.percentages().forEach((k, v) -> line.append(",\"").append(k).append("\":").append(String.format(Locale.ROOT, "%.2f", v)));
        System.out.println(line.append('}'));
        return 0;
    }
}
