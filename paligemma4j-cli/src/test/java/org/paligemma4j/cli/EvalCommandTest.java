package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.eval.Anls;
import org.paligemma4j.eval.CiderD;
import org.paligemma4j.eval.DetectionScore;
import org.paligemma4j.eval.ExactMatch;
import org.paligemma4j.eval.SegmentationScore;
import org.paligemma4j.eval.VqaAccuracy;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.testing.Fixtures;

/**
 * `paligemma eval` end to end on the random-weight fixture model: its scores are low, but they must be the metrics
 * of exactly the texts `generate` produces for the same examples.
 */
class EvalCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = Fixtures.path("paligemma-tiny").toString();
    private static final String TOKENS = "6";

    private static String image(String name) {
        return Fixtures.path("images", name).toString();
    }

    /** The text `generate --json` gives for one image and prompt. */
    private static String generated(String image, String prompt) throws IOException {
        CliRunner.Result r = CliRunner.run("generate", "--model", MODEL, "--image", image, "--prompt", prompt,
                "--max-new-tokens", TOKENS, "--json");
        assertEquals(0, r.exitCode(), r.err());
        return JSON.readTree(r.out()).get("text").asText();
    }

    private static JsonNode eval(String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of("eval", "--model", MODEL, "--max-new-tokens", TOKENS));
        all.addAll(List.of(args));
        CliRunner.Result r = CliRunner.run(all.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        return JSON.readTree(r.out());
    }

    private static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) out.add(JSON.readTree(line));
        return out;
    }

    @Test
    void textMetricsAreThoseOfTheTextsGenerateProduces(@TempDir Path dir) throws IOException {
        Files.copy(Fixtures.path("images", "photo_like.jpg"), dir.resolve("local.jpg"));
        Path data = dir.resolve("test.jsonl");
        Files.writeString(data, String.join("\n",
                "{\"image\": \"local.jpg\", \"prefix\": \"caption en\", \"suffix\": \"a dog on a sofa\"}",
                "",
                "{\"image\": \"" + image("shapes_text.png") + "\", \"prefix\": \"answer en what is this?\", \"suffix\": \"shapes\","
                        + " \"answers\": [\"shapes\", \"shapes\", \"squares\", \"text\", \"shapes\", \"a square\", \"2\", \"two\", \"shapes\", \"squares\"]}",
                "{\"image\": \"" + image("tiny_gray.png") + "\", \"prefix\": \"ocr\", \"suffix\": [\"hello world\", \"hello\"]}",
                "{\"image\": \"" + image("photo_like.jpg") + "\", \"prefix\": \"caption es\", \"suffix\": \"un perro\", \"id\": 7}") + "\n");
        Path predictions = dir.resolve("predictions.jsonl");
        JsonNode out = eval("--data", data.toString(), "--metric", "exact,vqa,anls,cider", "--predictions", predictions.toString());

        List<String> images = List.of(dir.resolve("local.jpg").toString(), image("shapes_text.png"), image("tiny_gray.png"), image("photo_like.jpg"));
        List<String> prompts = List.of("caption en", "answer en what is this?", "ocr", "caption es");
        List<List<String>> refs = List.of(List.of("a dog on a sofa"),
                List.of("shapes", "shapes", "squares", "text", "shapes", "a square", "2", "two", "shapes", "squares"),
                List.of("hello world", "hello"), List.of("un perro"));
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 4; i++) texts.add(generated(images.get(i), prompts.get(i)));

        double exact = 0;
        double vqa = 0;
        double anls = 0;
        for (int i = 0; i < 4; i++) {
            exact += ExactMatch.score(texts.get(i), refs.get(i));
            vqa += VqaAccuracy.score(texts.get(i), refs.get(i));
            anls += Anls.score(texts.get(i), refs.get(i));
        }
        CiderD.Result cider = CiderD.score(texts, refs);
        assertEquals(4, out.get("examples").asInt());
        JsonNode m = out.get("metrics");
        assertEquals(exact / 4, m.get("exact").asDouble(), 1e-12);
        assertEquals(vqa / 4, m.get("vqa").asDouble(), 1e-12);
        assertEquals(anls / 4, m.get("anls").asDouble(), 1e-12);
        assertEquals(cider.score(), m.get("cider").asDouble(), 1e-12);
        assertTrue(out.get("generation_seconds").asDouble() > 0);
        assertEquals("none", out.get("quant").asText());

        List<JsonNode> written = lines(predictions);
        assertEquals(4, written.size());
        int[] lineNumbers = {1, 3, 4, 5};
        for (int i = 0; i < 4; i++) {
            JsonNode p = written.get(i);
            assertEquals(lineNumbers[i], p.get("line").asInt(), "blank lines still count");
            assertEquals(texts.get(i), p.get("prediction").asText());
            assertEquals(prompts.get(i), p.get("prefix").asText());
            assertEquals(refs.get(i).size(), p.get("references").size());
            assertEquals(cider.perExample()[i], p.get("scores").get("cider").asDouble(), 1e-12);
            assertEquals(VqaAccuracy.score(texts.get(i), refs.get(i)), p.get("scores").get("vqa").asDouble(), 1e-12);
        }
    }

    /** The same examples with perfect answers written as predictions would score 1; here targets are loc strings. */
    @Test
    void detectionAndSegmentationScoresAreThoseOfTheGeneratedObjects(@TempDir Path dir) throws IOException {
        String seg = "<seg010><seg020><seg030><seg040><seg050><seg060><seg070><seg080>"
                + "<seg090><seg100><seg110><seg120><seg001><seg002><seg003><seg004>";
        List<String> images = List.of(image("photo_like.jpg"), image("shapes_text.png"));
        List<String> prompts = List.of("segment cat", "segment boat ; cat");
        List<String> targets = List.of("<loc0100><loc0200><loc0700><loc0900>" + seg + " cat",
                "<loc0000><loc0000><loc0511><loc0511>" + seg + " boat ; <loc0300><loc0300><loc0900><loc1000>" + seg + " cat");
        Path data = dir.resolve("objects.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            lines.add("{\"image\": \"" + images.get(i) + "\", \"prefix\": \"" + prompts.get(i) + "\", \"suffix\": \"" + targets.get(i) + "\"}");
        }
        Files.write(data, lines);
        Path vae = Fixtures.path("segmentation", "vae-oid.random.npz");
        JsonNode out = eval("--data", data.toString(), "--metric", "detection,segmentation", "--vae", vae.toString());

        DetectionScore detection = new DetectionScore();
        SegmentationScore segmentation = new SegmentationScore();
        MaskDecoder decoder = MaskDecoder.load(vae);
        for (int i = 0; i < 2; i++) {
            RgbImage picture = ImageLoader.load(Path.of(images.get(i)));
            int w = picture.width();
            int h = picture.height();
            String text = generated(images.get(i), prompts.get(i));
            var predicted = DetectionParser.detections(text, w, h);
            var target = DetectionParser.detections(targets.get(i), w, h);
            detection.add(predicted, target);
            segmentation.add(SegmentationScore.unionMask(predicted, decoder, w, h), SegmentationScore.unionMask(target, decoder, w, h));
        }
        JsonNode d = out.get("metrics").get("detection");
        assertEquals(detection.precision(), d.get("precision").asDouble(), 1e-12);
        assertEquals(detection.recall(), d.get("recall").asDouble(), 1e-12);
        assertEquals(detection.f1(), d.get("f1").asDouble(), 1e-12);
        assertEquals(detection.boxIou(), d.get("box_iou").asDouble(), 1e-12);
        assertEquals(3, d.get("target_objects").asInt());
        assertEquals(detection.predictions(), d.get("predicted_objects").asLong());
        JsonNode s = out.get("metrics").get("segmentation");
        assertEquals(segmentation.meanIou(), s.get("miou").asDouble(), 1e-12);
        assertEquals(segmentation.cumulativeIou(), s.get("ciou").asDouble(), 1e-12);
    }

    @Test
    void compareQuantReportsAgreementAndTheQuantizedModelsOwnScores(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("test.jsonl");
        Files.write(data, List.of(
                "{\"image\": \"" + image("photo_like.jpg") + "\", \"prefix\": \"caption en\", \"suffix\": \"a photo\"}",
                "{\"image\": \"" + image("shapes_text.png") + "\", \"prefix\": \"ocr\", \"suffix\": \"text\"}",
                "{\"image\": \"" + image("tiny_gray.png") + "\", \"prefix\": \"answer en what?\", \"answers\": [\"gray\", \"grey\"]}"));
        Path predictions = dir.resolve("p.jsonl");
        JsonNode out = eval("--data", data.toString(), "--metric", "anls,cider", "--compare-quant", "q8", "--predictions", predictions.toString());
        JsonNode c = out.get("compare_quant");
        assertEquals("q8", c.get("quant").asText());
        assertEquals(out.get("generated_tokens").asLong(), c.get("positions").asLong(), "every generated position is compared");
        double agreement = c.get("top1_agreement").asDouble();
        assertTrue(agreement >= 0 && agreement <= 1, "agreement " + agreement);
        double rms = c.get("logit_rms_error").asDouble(), relative = c.get("logit_relative_rms_error").asDouble();
        double max = c.get("logit_max_abs_error").asDouble();
        // int8 weights move the logits, a little: more than rounding noise, far less than the logits themselves
        assertTrue(rms > 0 && rms <= max, "rms " + rms + " max " + max);
        assertTrue(relative > 0 && relative < 0.2, "relative rms " + relative);


        JsonNode quantizedAlone = eval("--data", data.toString(), "--metric", "anls,cider", "--quant", "q8");
        assertEquals("q8", quantizedAlone.get("quant").asText());
        for (String metric : List.of("anls", "cider")) {
            double q = quantizedAlone.get("metrics").get(metric).asDouble();
            assertEquals(q, c.get("metrics").get(metric).asDouble(), 1e-12, metric);
            assertEquals(q - out.get("metrics").get(metric).asDouble(), c.get("change").get(metric).asDouble(), 1e-12, metric);
        }
        List<JsonNode> written = lines(predictions);
        assertEquals(3, written.size());
        double agreed = 0;
        long positions = 0;
        for (JsonNode p : written) {
            assertTrue(p.has("quantized_prediction") && p.has("quantized_scores"), p.toString());
            agreed += p.get("top1_agreement").asDouble() * p.get("generated_tokens").asLong();
            positions += p.get("generated_tokens").asLong();
        }
        assertEquals(c.get("positions").asLong(), positions);
        assertEquals(agreement, agreed / positions, 1e-12, "the summary pools every example's positions");
    }

    @Test
    void limitTakesTheFirstExamples(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("test.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 5; i++) lines.add("{\"image\": \"" + image("tiny_gray.png") + "\", \"prefix\": \"ocr\", \"suffix\": \"x\"}");
        Files.write(data, lines);
        assertEquals(2, eval("--data", data.toString(), "--metric", "exact", "--limit", "2").get("examples").asInt());
    }

    @Test
    void badLinesAreReportedWithTheirNumbers(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("bad.jsonl");
        Files.writeString(data, String.join("\n",
                "{\"image\": \"" + image("tiny_gray.png") + "\", \"prefix\": \"ocr\", \"suffix\": \"x\"}",
                "",
                "not json",
                "{\"image\": \"" + image("tiny_gray.png") + "\", \"suffix\": \"x\"}",
                "{\"image\": \"missing.png\", \"prefix\": \"ocr\", \"suffix\": \"x\"}",
                "{\"image\": \"" + image("tiny_gray.png") + "\", \"prefix\": \"ocr\", \"suffix\": 3}",
                "[1, 2]",
                "{\"image\": \"" + image("tiny_gray.png") + "\", \"prefix\": \"ocr\", \"answers\": []}"));
        CliRunner.Result r = CliRunner.run("eval", "--model", MODEL, "--data", data.toString(), "--metric", "exact");
        assertEquals(1, r.exitCode());
        assertEquals("", r.out());
        String err = r.err();
        assertTrue(err.startsWith("paligemma eval: " + data + ": 6 bad lines: line 3: not JSON"), err);
        assertTrue(err.contains("line 4: missing \"prefix\""), err);
        assertTrue(err.contains("line 5: image " + dir.resolve("missing.png") + " does not exist"), err);
        assertTrue(err.contains("line 6: \"suffix\" must be a string or an array of strings"), err);
        assertTrue(err.contains("line 7: an example must be a JSON object"), err);
        assertTrue(err.contains("line 8: \"answers\" is empty"), err);
        assertEquals(1, err.lines().count(), err);
    }

    @Test
    void anUndecodableImageOrATooLongGenerationNamesTheLine(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("bad.png"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        Path data = dir.resolve("t.jsonl");
        Files.write(data, List.of("{\"image\": \"" + image("tiny_gray.png") + "\", \"prefix\": \"ocr\", \"suffix\": \"x\"}",
                "{\"image\": \"bad.png\", \"prefix\": \"ocr\", \"suffix\": \"x\"}"));
        CliRunner.Result r = CliRunner.run("eval", "--model", MODEL, "--data", data.toString(), "--metric", "exact");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("paligemma eval: " + data + ": line 2: " + dir.resolve("bad.png") + ": unsupported image format"), r.err());
        CliRunner.Result tooLong = CliRunner.run("eval", "--model", MODEL, "--data", data.toString(), "--metric", "exact",
                "--max-new-tokens", "100000", "--limit", "1");
        assertEquals(1, tooLong.exitCode());
        assertTrue(tooLong.err().startsWith("paligemma eval: " + data + ": line 1: the prompt has"), tooLong.err());
        CliRunner.Result folder = CliRunner.run("eval", "--model", MODEL, "--data", dir.toString(), "--metric", "exact");
        assertEquals(1, folder.exitCode());
        assertTrue(folder.err().contains("is a folder"), folder.err());
    }

    @Test
    void detectionTargetsMustBeValidBoxes(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("d.jsonl");
        Files.write(data, List.of(
                "{\"image\": \"" + image("tiny_gray.png") + "\", \"prefix\": \"detect cat\", \"suffix\": \"<loc0500><loc0100><loc0200><loc0900> cat\"}",
                "{\"image\": \"" + image("tiny_gray.png") + "\", \"prefix\": \"detect cat\", \"suffix\": \"<loc0100><loc0100><loc0200><loc0900> cat\"}"));
        CliRunner.Result r = CliRunner.run("eval", "--model", MODEL, "--data", data.toString(), "--metric", "detection");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("line 1: target object '<loc0500><loc0100><loc0200><loc0900> cat' is not a valid box"), r.err());
        assertFalse(r.err().contains("line 2"), r.err());
        CliRunner.Result s = CliRunner.run("eval", "--model", MODEL, "--data", data.toString(), "--metric", "segmentation",
                "--vae", Fixtures.path("segmentation", "vae-oid.random.npz").toString());
        assertEquals(1, s.exitCode());
        assertTrue(s.err().contains("line 2: segmentation target object"), s.err());
    }

    @Test
    void wrongOptionsAreUsageErrors(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("t.jsonl");
        Files.write(data, List.of("{\"image\": \"" + image("tiny_gray.png") + "\", \"prefix\": \"ocr\", \"suffix\": \"x\"}"));
        String file = data.toString();
        CliRunner.Result unknown = CliRunner.run("eval", "--model", MODEL, "--data", file, "--metric", "exact,bleu");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown metric 'bleu' (metrics: exact, vqa, anls, cider, detection, segmentation)"), unknown.err());
        CliRunner.Result noVae = CliRunner.run("eval", "--model", MODEL, "--data", file, "--metric", "segmentation");
        assertEquals(2, noVae.exitCode(), noVae.err());
        assertTrue(noVae.err().contains("--vae"), noVae.err());
        CliRunner.Result both = CliRunner.run("eval", "--model", MODEL, "--data", file, "--metric", "exact", "--quant", "q4", "--compare-quant", "q8");
        assertEquals(2, both.exitCode());
        CliRunner.Result badQuant = CliRunner.run("eval", "--model", MODEL, "--data", file, "--metric", "exact", "--compare-quant", "q3");
        assertEquals(2, badQuant.exitCode());
        assertTrue(badQuant.err().contains("unknown weight format 'q3'"), badQuant.err());
        CliRunner.Result adapter = CliRunner.run("eval", "--model", MODEL, "--data", file, "--metric", "exact", "--adapter", dir.toString());
        assertEquals(1, adapter.exitCode());
        assertTrue(adapter.err().contains("adapter_config.json"), "a folder that is not an adapter: " + adapter.err());
        CliRunner.Result noFile = CliRunner.run("eval", "--model", MODEL, "--data", dir.resolve("none.jsonl").toString(), "--metric", "exact");
        assertEquals(1, noFile.exitCode());
        assertTrue(noFile.err().contains("none.jsonl: no such file"), noFile.err());
    }
}
