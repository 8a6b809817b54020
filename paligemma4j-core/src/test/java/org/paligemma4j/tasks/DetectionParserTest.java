package org.paligemma4j.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class DetectionParserTest {

    private static final String SEGS16 = "<seg000><seg008><seg016><seg024><seg032><seg040><seg048><seg056>"
            + "<seg064><seg072><seg080><seg088><seg096><seg104><seg112><seg120>";
    private static final String BOX = "<loc0100><loc0200><loc0700><loc0900>";

    static Stream<JsonNode> parseCases() {
        List<JsonNode> cases = new ArrayList<>();
        SegmentationFixtures.json("parse.json").get("cases").forEach(cases::add);
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("parseCases")
    void itemsMatchParseGolden(JsonNode c) {
        String id = c.get("id").asText();
        List<OutputItem> items = DetectionParser.parse(c.get("text").asText(), c.get("width").asInt(),
                c.get("height").asInt());
        JsonNode expected = c.get("items");
        assertEquals(expected.size(), items.size(), id + ": item count " + items);
        for (int i = 0; i < items.size(); i++) {
            JsonNode e = expected.get(i);
            String where = id + " item " + i;
            if (e.get("kind").asText().equals("text")) {
                TextItem t = assertInstanceOf(TextItem.class, items.get(i), where);
                assertEquals(e.get("text").asText(), t.text(), where);
                continue;
            }
            Detection d = assertInstanceOf(Detection.class, items.get(i), where);
            assertEquals(e.get("span").asText(), d.span(), where + " span");
            assertEquals(textOrNull(e.get("label")), d.label(), where + " label");
            assertEquals(textOrNull(e.get("label_raw")), d.labelRaw(), where + " label_raw");
            assertArrayEquals(SegmentationFixtures.ints(e.get("loc")), d.loc().toArray(), where + " loc");
            if (e.get("seg").isNull()) {
                assertNull(d.seg(), where + " seg");
            } else {
                assertArrayEquals(SegmentationFixtures.ints(e.get("seg")), d.segIndices(), where + " seg");
            }
            // Exact: loc / 1023 in float64 is one correctly rounded division, in Python and in Java.
            assertArrayEquals(SegmentationFixtures.doubles(e.get("box_norm")), d.normalizedBox().toArray(), 0.0,
                    where + " box_norm");
            assertArrayEquals(SegmentationFixtures.ints(e.get("box_px")), d.pixelBox().toArray(), where + " box_px");
            assertEquals(e.get("box_valid").asBoolean(), d.boxValid(), where + " box_valid");
            assertEquals(e.get("box_px_valid").asBoolean(), d.pixelBoxValid(), where + " box_px_valid");
            assertEquals(e.get("seg_valid").asBoolean(), d.segValid(), where + " seg_valid");
            assertEquals(e.get("valid").asBoolean(), d.valid(), where + " valid");
            assertEquals(e.get("valid_segment").asBoolean(), d.validSegment(), where + " valid_segment");
            PixelBox hf = d.pixelBox(BoxConvention.HF_SPACE);
            assertArrayEquals(SegmentationFixtures.ints(e.get("hf_xyxy")),
                    new int[] {hf.xMin(), hf.yMin(), hf.xMax(), hf.yMax()}, where + " hf_xyxy");
        }
    }

    @Test
    void fifteenSegTokensLeaveTheObjectWithoutMaskOrLabel() {
        String segs15 = SEGS16.substring(0, SEGS16.length() - "<seg120>".length());
        List<OutputItem> items = DetectionParser.parse(BOX + segs15 + " cat", 640, 480);
        Detection d = assertInstanceOf(Detection.class, items.get(0));
        assertNull(d.seg());
        assertNull(d.label());
        assertEquals(new TextItem(segs15 + " cat"), items.get(1));
    }

    @Test
    void seventeenthSegTokenAndLabelBecomeText() {
        List<OutputItem> items = DetectionParser.parse(BOX + SEGS16 + "<seg005> cat", 640, 480);
        Detection d = assertInstanceOf(Detection.class, items.get(0));
        assertEquals(16, d.seg().size());
        assertEquals(new TextItem("<seg005> cat"), items.get(1));
    }

    @Test
    void newlineBeforeAnObjectEndsParsing() {
        assertEquals(List.of(new TextItem("result\n" + BOX + " cat")), DetectionParser.parse("result\n" + BOX + " cat", 10, 10));
    }

    @Test
    void carriageReturnDoesNotEndParsingUnlikeJavaDot() {
        List<OutputItem> items = DetectionParser.parse("a\r" + BOX + " cat", 10, 10);
        assertEquals(new TextItem("a\r"), items.get(0));
        assertEquals("cat", assertInstanceOf(Detection.class, items.get(1)).label());
    }

    @Test
    void noBreakSpaceIsWhitespaceAsInPython() {
        Detection d = DetectionParser.detections(BOX + "\u00A0cat\u00A0", 10, 10).getFirst();
        assertEquals("cat\u00A0", d.labelRaw());
        assertEquals("cat", d.label());
    }

    @Test
    void labelMayContainNewlineButStopsAtSemicolonAndAngleBrackets() {
        List<Detection> ds = DetectionParser.detections(BOX + " cat\n" + BOX + " dog", 10, 10);
        assertEquals("cat\n", ds.get(0).labelRaw());
        assertEquals("cat", ds.get(0).label());
        assertEquals("a", DetectionParser.detections(BOX + " a>b", 10, 10).getFirst().label());
    }

    @Test
    void unicodeDigitsCountAsInPythonsIntOfBackslashD() {
        // Arabic-Indic digits match Python's \d and int() reads them; the same holds here.
        Detection d = DetectionParser.detections("<loc\u0660\u0661\u0660\u0660><loc0200><loc0700><loc0900> x", 640, 480)
                .getFirst();
        assertEquals(100, d.loc().y1());
    }

    @Test
    void pythonWhitespaceClassAndStripAgreeOnEveryCharacter() {
        Pattern cls = Pattern.compile("[" + DetectionParser.PY_SPACE + "]");
        int count = 0;
        for (int cp = 0; cp <= Character.MAX_VALUE; cp++) {
            char c = (char) cp;
            boolean inClass = cls.matcher(String.valueOf(c)).matches();
            assertEquals(inClass, DetectionParser.isPythonSpace(c), () -> "U+" + Integer.toHexString(c));
            if (inClass) count++;
        }
        assertEquals(29, count, "Python 3.11's str.isspace() is true for 29 code points");
    }

    @Test
    void longOutputsParseWithoutStackOverflow() {
        String many = (BOX + SEGS16 + " cat ; ").repeat(5000);
        assertEquals(5000, DetectionParser.detections(many, 640, 480).size());
        String prose = "word ".repeat(200_000);
        assertEquals(List.of(new TextItem(prose)), DetectionParser.parse(prose, 640, 480));
    }

    @Test
    void emptyOutputHasNoItems() {
        assertTrue(DetectionParser.parse("", 1, 1).isEmpty());
    }

    @Test
    void nonPositiveImageSizeIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DetectionParser.parse(BOX, 0, 480));
        assertTrue(e.getMessage().contains("0x480"), e.getMessage());
    }

    @Test
    void bigVisionTruncatesTheFloatProductWhereIntegerArithmeticRoundsUp() {
        Detection d = DetectionParser.detections("<loc0279><loc0279><loc0558><loc0558> cat", 110, 55).getFirst();
        assertEquals(new PixelBox(14, 29, 29, 59), d.pixelBox());
        assertFalse(279 * 55 / 1023 == 14, "integer arithmetic would give 15");
    }

    private static String textOrNull(JsonNode n) {
        return n == null || n.isNull() ? null : n.asText();
    }
}
