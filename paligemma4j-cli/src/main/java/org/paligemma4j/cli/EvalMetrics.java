package org.paligemma4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.paligemma4j.eval.Anls;
import org.paligemma4j.eval.CiderD;
import org.paligemma4j.eval.DetectionScore;
import org.paligemma4j.eval.ExactMatch;
import org.paligemma4j.eval.SegmentationScore;
import org.paligemma4j.eval.VqaAccuracy;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.MaskDecoder;

/** The {@code --metric} names of {@code eval} and how each scores a data set's predictions (metrics in org.paligemma4j.eval). */
final class EvalMetrics {
    static final List<String> NAMES = List.of("exact", "vqa", "anls", "cider", "detection", "segmentation");

    private final Set<String> metrics;
    private final MaskDecoder maskDecoder;

    /** Corpus scores and each example's own. */
    record Scores(ObjectNode corpus, List<ObjectNode> perExample) {}

    EvalMetrics(Set<String> metrics, MaskDecoder maskDecoder) {
        this.metrics = metrics;
        this.maskDecoder = maskDecoder;
    }

    /** The comma-separated {@code --metric} values, checked and in the order given (duplicates dropped). */
    static Set<String> parse(List<String> values) {
        Set<String> out = new LinkedHashSet<>();
        for (String v : values) {
            String name = v.trim().toLowerCase(Locale.ROOT);
            if (!NAMES.contains(name)) {
                throw new IllegalArgumentException("unknown metric '" + v + "' (metrics: " + String.join(", ", NAMES) + ")");
            }
            out.add(name);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("--metric needs at least one of " + String.join(", ", NAMES));
        return out;
    }

    /**
     * Checks before generating that every example's references suit the metrics: detection and segmentation need
     * one target string whose objects are valid boxes (with {@code <seg>} tokens for segmentation).
     */
    void checkTargets(Path file, List<EvalData.Example> examples) {
        if (!metrics.contains("detection") && !metrics.contains("segmentation")) return;
        List<String> problems = new ArrayList<>();
        for (EvalData.Example e : examples) {
            String problem = targetProblem(e);
            if (problem != null) problems.add("line " + e.line() + ": " + problem);
        }
        if (!problems.isEmpty()) {
            throw new CliException(file + ": " + String.join("; ", problems.subList(0, Math.min(10, problems.size())))
                    + (problems.size() > 10 ? "; … (" + problems.size() + " lines)" : ""));
        }
    }

    private String targetProblem(EvalData.Example e) {
        if (e.references().size() != 1) return "detection and segmentation need one target string (the suffix), got " + e.references().size();
        // Box validity does not depend on the image size, so any size will do here.
        for (Detection d : DetectionParser.detections(e.references().get(0), 1024, 1024)) {
            if (!d.boxValid()) return "target object '" + d.span().strip() + "' is not a valid box (4 ordered <loc> tokens in 0..1023)";
            if (metrics.contains("segmentation") && !d.segValid()) {
                return "segmentation target object '" + d.span().strip() + "' needs 16 <seg> tokens in 0..127";
            }
        }
        return null;
    }

    /**
     * Scores {@code predictions} (one text per example) against the examples' references; {@code sizes[i]} is
     * example i's image {width, height}, which places boxes and masks.
     */
    Scores score(List<EvalData.Example> examples, List<String> predictions, int[][] sizes) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode corpus = f.objectNode();
        List<ObjectNode> each = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) each.add(f.objectNode());
        for (String metric : metrics) {
            switch (metric) {
                case "exact", "vqa", "anls" -> {
                    double sum = 0;
                    for (int i = 0; i < examples.size(); i++) {
                        List<String> refs = examples.get(i).references();
                        double s = switch (metric) {
                            case "exact" -> ExactMatch.score(predictions.get(i), refs);
                            case "vqa" -> VqaAccuracy.score(predictions.get(i), refs);
                            default -> Anls.score(predictions.get(i), refs);
                        };
                        each.get(i).put(metric, s);
                        sum += s;
                    }
                    corpus.put(metric, sum / examples.size());
                }
                case "cider" -> {
                    CiderD.Result r = CiderD.score(predictions, examples.stream().map(EvalData.Example::references).toList());
                    for (int i = 0; i < examples.size(); i++) each.get(i).put("cider", r.perExample()[i]);
                    corpus.put("cider", r.score());
                }
                case "detection" -> {
                    DetectionScore d = new DetectionScore();
                    for (int i = 0; i < examples.size(); i++) {
                        int w = sizes[i][0];
                        int h = sizes[i][1];
                        DetectionScore.Example e = d.add(DetectionParser.detections(predictions.get(i), w, h),
                                DetectionParser.detections(examples.get(i).references().get(0), w, h));
                        ObjectNode o = each.get(i).putObject("detection");
                        o.put("predicted_objects", e.predictions());
                        o.put("target_objects", e.targets());
                        o.put("matches", e.matches());
                    }
                    ObjectNode o = corpus.putObject("detection");
                    o.put("precision", d.precision());
                    o.put("recall", d.recall());
                    o.put("f1", d.f1());
                    number(o, "box_iou", d.boxIou());
                    o.put("predicted_objects", d.predictions());
                    o.put("target_objects", d.targets());
                    o.put("matches", d.matches());
                }
                case "segmentation" -> {
                    SegmentationScore s = new SegmentationScore();
                    for (int i = 0; i < examples.size(); i++) {
                        int w = sizes[i][0];
                        int h = sizes[i][1];
                        BinaryMask predicted = SegmentationScore.unionMask(DetectionParser.detections(predictions.get(i), w, h), maskDecoder, w, h);
                        BinaryMask target = SegmentationScore.unionMask(DetectionParser.detections(examples.get(i).references().get(0), w, h), maskDecoder, w, h);
                        each.get(i).put("mask_iou", s.add(predicted, target));
                    }
                    ObjectNode o = corpus.putObject("segmentation");
                    number(o, "miou", s.meanIou());
                    number(o, "ciou", s.cumulativeIou());
                }
                default -> throw new IllegalStateException(metric);
            }
        }
        return new Scores(corpus, each);
    }

    /** A number, or null where JSON cannot hold it (NaN: nothing to average). */
    private static void number(ObjectNode o, String field, double v) {
        if (Double.isFinite(v)) o.put(field, v);
        else o.putNull(field);
    }

    /** {@code after − before} for every number the two score objects share, nested alike. */
    static ObjectNode change(JsonNode before, JsonNode after) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = after.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode b = before.get(e.getKey());
            if (b == null) continue;
            if (e.getValue().isObject() && b.isObject()) out.set(e.getKey(), change(b, e.getValue()));
            else if (e.getValue().isNumber() && b.isNumber()) {
                if (e.getValue().isIntegralNumber() && b.isIntegralNumber()) out.put(e.getKey(), e.getValue().asLong() - b.asLong());
                else out.put(e.getKey(), e.getValue().asDouble() - b.asDouble());
            } else out.putNull(e.getKey());
        }
        return out;
    }
}
