package org.paligemma4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.DetectResult;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.tasks.MaskPaster;
import org.paligemma4j.tasks.Segment;
import org.paligemma4j.tasks.SegmentResult;
import org.paligemma4j.tasks.TaskJson;
import org.paligemma4j.tasks.TaskPrompts;
import org.paligemma4j.tasks.TextResult;

/**
 * The typed task endpoints: {@code /v1/caption}, {@code /v1/answer}, {@code /v1/ocr}, {@code /v1/detect} and
 * {@code /v1/segment}. Each takes an image (multipart upload or base64 in JSON) and the task's fields, runs on
 * the shared engine, and returns the JSON that {@code paligemma <task> --json} prints (the task names are the
 * CLI's: caption, ask, ocr, detect, segment; the image has no path). With {@code "stream": true} the text streams
 * as server-sent events ({@code {"text": piece}}) and the last event holds that JSON as {@code result}, with
 * {@code timings}.
 */
final class TaskEndpoints {
    /** The tasks by endpoint name. */
    enum Task {
        CAPTION("caption", "caption"), ANSWER("answer", "ask"), OCR("ocr", "ocr"), DETECT("detect", "detect"), SEGMENT("segment", "segment");

        final String endpoint;
        final String cliName;

        Task(String endpoint, String cliName) {
            this.endpoint = endpoint;
            this.cliName = cliName;
        }
    }

    /** Fields a multipart form may carry as numbers (the rest stay text). */
    static final List<String> NUMERIC_FIELDS = List.of("max_new_tokens", "max_tokens", "temperature", "top_p", "top_k", "seed");

    static final String MASKS_NEED_VAE = "masks need big_vision's mask VQ-VAE: start the server with --vae vae-oid.npz";

    private TaskEndpoints() {}

    /** The prompt of {@code task} from the request's fields ({@code language}, {@code question}, {@code labels}). */
    static String prompt(Task task, JsonNode fields) {
        String language = RequestFields.string(fields, "language");
        if (language == null) language = "en";
        try {
            return switch (task) {
                case CAPTION -> TaskPrompts.caption(language);
                case ANSWER -> {
                    String question = RequestFields.string(fields, "question");
                    if (question == null) throw ApiException.badRequest("question", "'question' is required");
                    yield TaskPrompts.answer(language, question);
                }
                case OCR -> TaskPrompts.ocr();
                case DETECT -> TaskPrompts.detect(labels(fields));
                case SEGMENT -> TaskPrompts.segment(labels(fields));
            };
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(task == Task.DETECT || task == Task.SEGMENT ? "labels" : null, e.getMessage());
        }
    }

    private static List<String> labels(JsonNode fields) {
        JsonNode v = fields.get("labels");
        if (v == null || v.isNull()) throw ApiException.badRequest("labels", "'labels' is required: \"cat ; dog\" or [\"cat\", \"dog\"]");
        if (v.isTextual()) return TaskPrompts.splitLabels(v.asText());
        List<String> labels = RequestFields.strings(fields, "labels", 64);
        return TaskPrompts.checkLabels(labels);
    }

    /** How long and how random: the request's fields, by default the CLI's length (64 tokens) and greedy. */
    static GenerationOptions options(JsonNode fields, String prompt, Generations generations) {
        // The CLI's default length, so that the same request prints the same JSON in both.
        return generations.options(fields, prompt, 1, List.of("max_new_tokens", "max_tokens"), GenerationOptions.defaults().maxNewTokens());
    }

    /** The task's JSON for a finished generation on {@code image}. */
    static ObjectNode json(Task task, String prompt, GenerationResult output, RgbImage image, MaskDecoder maskDecoder) {
        int w = image.width(), h = image.height();
        return switch (task) {
            case CAPTION, ANSWER, OCR -> TaskJson.result(task.cliName, new TextResult(prompt, output), null, w, h);
            case DETECT -> {
                DetectResult r = new DetectResult(prompt, output, DetectionParser.detections(output.text(), w, h));
                ObjectNode json = TaskJson.result(task.cliName, r, null, w, h);
                TaskJson.addObjects(json, r.objects().stream().map(d -> new Segment(d, null)).toList(), false);
                yield json;
            }
            case SEGMENT -> {
                List<Segment> segments = new ArrayList<>();
                for (Detection d : DetectionParser.detections(output.text(), w, h)) {
                    BinaryMask mask = maskDecoder == null || !d.validSegment() ? null : MaskPaster.paste(maskDecoder.decode(d.segIndices()), d);
                    segments.add(new Segment(d, mask));
                }
                SegmentResult r = new SegmentResult(prompt, output, segments, maskDecoder != null);
                ObjectNode json = TaskJson.result(task.cliName, r, null, w, h);
                TaskJson.addObjects(json, r.objects(), true);
                json.put("masks_decoded", r.masksDecoded());
                if (r.masksNeedDecoder()) json.put("note", MASKS_NEED_VAE);
                yield json;
            }
        };
    }

    /** Where a generation's time went, in seconds, for the web page. */
    static ObjectNode timings(GenerationResult result) {
        var t = result.timings();
        ObjectNode o = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        o.put("queue_s", t.queueSeconds());
        o.put("image_s", t.imageSeconds());
        o.put("image_cached", t.imageCached());
        o.put("prefill_s", t.prefillSeconds());
        o.put("decode_s", t.decodeSeconds());
        o.put("decoded_tokens", t.decodedTokens());
        o.put("first_token_s", t.firstTokenSeconds());
        o.put("prompt_tokens", result.promptTokens());
        o.put("finish_reason", result.finishReason().name().toLowerCase(java.util.Locale.ROOT));
        return o;
    }
}
