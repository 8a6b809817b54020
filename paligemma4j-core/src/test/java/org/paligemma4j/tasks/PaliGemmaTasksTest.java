package org.paligemma4j.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.testing.Fixtures;

/** The task API on the tiny fixture model (random weights: gibberish, but deterministic and with boxes). */
class PaliGemmaTasksTest {

    private static PaliGemma pg;
    private static RgbImage shapes;

    @BeforeAll
    static void open() throws IOException {
        pg = PaliGemma.open(Fixtures.path("paligemma-tiny"));
        shapes = ImageLoader.load(Fixtures.path("images", "shapes_text.png"));
    }

    @AfterAll
    static void close() {
        pg.close();
    }

    @Test
    void textTasksAreTheRawGenerationOfTheirPrompts() {
        GenerationOptions options = GenerationOptions.defaults().withMaxNewTokens(12);
        PaliGemmaTasks tasks = PaliGemmaTasks.of(pg).withOptions(options);
        for (TextResult r : List.of(tasks.caption(shapes, "en"), tasks.answer(shapes, "what is this?", "en"), tasks.ocr(shapes))) {
            org.paligemma4j.generate.GenerationResult raw = pg.generate(shapes, r.prompt(), options, null);
            assertArrayEquals(raw.ids(), r.ids(), r.prompt());
            assertEquals(raw.text(), r.text(), r.prompt());
        }
        assertEquals(List.of("caption en", "answer en what is this?", "ocr"),
                List.of(tasks.caption(shapes, "en").prompt(), tasks.answer(shapes, "what is this?", "en").prompt(),
                        tasks.ocr(shapes).prompt()));
    }

    @Test
    void listenerSeesEveryGeneratedTokenInOrder() {
        List<Integer> seen = new ArrayList<>();
        TextResult r = PaliGemmaTasks.of(pg).withListener(seen::add).generate(shapes, "caption en",
                GenerationOptions.defaults().withMaxNewTokens(9));
        assertEquals(9, seen.size());
        assertArrayEquals(r.ids(), seen.stream().mapToInt(Integer::intValue).toArray());
    }

    @Test
    void detectReturnsTheParsedObjectsInOriginalImagePixels() {
        DetectResult r = PaliGemmaTasks.of(pg).detect(shapes, "house");
        assertEquals("detect house", r.prompt());
        assertEquals(DetectionParser.detections(r.text(), 200, 150), r.objects());
        // What docs/tasks.md shows: two valid boxes and one with an inverted x range.
        assertEquals(3, r.objects().size());
        List<Detection> valid = r.validObjects();
        assertEquals(2, valid.size());
        assertEquals(new PixelBox(40, 54, 69, 116), valid.get(0).pixelBox());
        assertEquals(new LocationTokens(273, 280, 471, 597), valid.get(0).loc());
        assertEquals(new PixelBox(21, 91, 68, 190), valid.get(1).pixelBox());
        assertFalse(r.objects().get(1).valid());
    }

    @Test
    void segmentWithoutDecoderKeepsTheBoxesAndSaysMasksWereNotDecoded() {
        SegmentResult r = PaliGemmaTasks.of(pg).segment(shapes, "house");
        assertEquals("segment house", r.prompt());
        assertFalse(r.masksDecoded());
        assertEquals(DetectionParser.detections(r.text(), 200, 150), r.detections());
        r.objects().forEach(s -> assertNull(s.mask()));
    }

    @Test
    void segmentsOfATextCarryDecodedMasksForValidSegmentObjectsOnly() throws IOException {
        String segs = "<seg009><seg124><seg084><seg028><seg104><seg103><seg041><seg087>"
                + "<seg012><seg060><seg070><seg003><seg097><seg114><seg090><seg073>";
        String text = "<loc0100><loc0200><loc0700><loc0900>" + segs + " cat ; <loc0010><loc0020><loc0030><loc0040> box ; "
                + "<loc0700><loc0200><loc0100><loc0900>" + segs + " inverted";
        MaskDecoder decoder = SegmentationFixtures.decoder();
        List<Segment> segments = PaliGemmaTasks.segments(text, 640, 480, decoder);
        assertEquals(3, segments.size());
        Segment cat = segments.get(0);
        assertNotNull(cat.mask());
        assertEquals(MaskPaster.paste(decoder.decode(cat.detection().segIndices()), cat.detection()), cat.mask());
        assertTrue(cat.mask().count() > 0);
        assertNull(segments.get(1).mask(), "a box without seg tokens has no mask");
        assertNull(segments.get(2).mask(), "an invalid object has no mask");
        assertTrue(PaliGemmaTasks.segments(text, 640, 480, null).stream().noneMatch(Segment::hasMask));
    }

    @Test
    void segmentResultSaysWhenSegTokensWaitForADecoder() {
        List<Segment> boxes = PaliGemmaTasks.segments("<loc0100><loc0200><loc0700><loc0900> cat", 64, 64, null);
        String segs = "<seg001>".repeat(16);
        List<Segment> withSeg = PaliGemmaTasks.segments("<loc0100><loc0200><loc0700><loc0900>" + segs + " cat", 64, 64, null);
        org.paligemma4j.generate.GenerationResult output = pg.generate(shapes, "x", GenerationOptions.defaults().withMaxNewTokens(1), null);
        assertFalse(new SegmentResult("segment cat", output, boxes, false).masksNeedDecoder());
        assertTrue(new SegmentResult("segment cat", output, withSeg, false).masksNeedDecoder());
    }

    @Test
    void resultsAreImmutable() {
        DetectResult r = PaliGemmaTasks.of(pg).withOptions(GenerationOptions.defaults().withMaxNewTokens(8)).detect(shapes, "cat");
        int first = r.ids()[0];
        r.ids()[0] = -5;
        r.output().ids()[0] = -5;
        assertEquals(first, r.ids()[0]);
        assertThrows(UnsupportedOperationException.class, () -> r.objects().clear());
    }

    @Test
    void badArgumentsFailBeforeTheModelRuns() {
        PaliGemmaTasks tasks = PaliGemmaTasks.of(pg);
        assertThrows(IllegalArgumentException.class, () -> tasks.caption(shapes, "English"));
        assertThrows(IllegalArgumentException.class, () -> tasks.detect(shapes, "cat", ""));
        assertThrows(IllegalArgumentException.class, () -> tasks.segment(shapes));
    }
}
