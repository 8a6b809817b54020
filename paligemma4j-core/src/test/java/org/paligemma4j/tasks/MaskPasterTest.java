package org.paligemma4j.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.io.NpyArray;

class MaskPasterTest {

    private static final double IOU_RELATIVE_TOLERANCE = 1e-12;

    static List<String> pasteCases() {
        return SegmentationFixtures.ids("paste");
    }

    /** The case as a parsed object: its loc tokens and its decode case's seg tokens on its image. */
    private static Detection detection(JsonNode c) {
        int[] loc = SegmentationFixtures.ints(c.get("loc"));
        JsonNode decode = SegmentationFixtures.caseOf("decode", c.get("decode_case").asText());
        List<Integer> seg = Arrays.stream(SegmentationFixtures.ints(decode.get("indices"))).boxed().toList();
        return new Detection("", null, null, new LocationTokens(loc[0], loc[1], loc[2], loc[3]), seg,
                c.get("width").asInt(), c.get("height").asInt());
    }

    private static float[] goldenMask64(JsonNode c) throws IOException {
        return SegmentationFixtures.npy("decode", c.get("decode_case").asText(), "mask64.npy").toFloatArray();
    }

    private static BinaryMask npyMask(NpyArray a) {
        long[] v = a.toLongArray();
        boolean[] b = new boolean[v.length];
        for (int i = 0; i < v.length; i++) b[i] = v[i] != 0;
        return BinaryMask.of((int) a.shape()[1], (int) a.shape()[0], b);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pasteCases")
    void boxAndValidityMatchGolden(String id) {
        JsonNode c = SegmentationFixtures.caseOf("paste", id);
        Detection d = detection(c);
        assertArrayEquals(SegmentationFixtures.doubles(c.get("box_norm")), d.normalizedBox().toArray(), 0.0);
        assertArrayEquals(SegmentationFixtures.ints(c.get("box_px")), d.pixelBox().toArray());
        assertEquals(c.get("token_valid").asBoolean(), d.boxValid() && d.segValid());
        assertEquals(c.get("px_valid").asBoolean(), d.pixelBoxValid());
        assertEquals(c.get("valid").asBoolean(), d.validSegment());
        int[] hf = SegmentationFixtures.ints(c.get("hf").get("xyxy"));
        PixelBox h = d.pixelBox(BoxConvention.HF_SPACE);
        assertArrayEquals(hf, new int[] {h.xMin(), h.yMin(), h.xMax(), h.yMax()});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pasteCases")
    void resizeIsBitIdenticalToPillow(String id) throws IOException {
        JsonNode c = SegmentationFixtures.caseOf("paste", id);
        Detection d = detection(c);
        if (!d.validSegment()) return; // invalid cases have no resized.npy: nothing is resized
        NpyArray want = SegmentationFixtures.npy("paste", id, "resized.npy");
        PixelBox box = d.pixelBox();
        assertArrayEquals(new long[] {box.height(), box.width()}, want.shape());
        float[] got = MaskPaster.resizeToBox(goldenMask64(c), box);
        float[] expected = want.toFloatArray();
        for (int i = 0; i < got.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]),
                    id + " pixel " + i + ": " + got[i] + " vs " + expected[i]);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pasteCases")
    void pastingTheGoldenMap64ReproducesTheFullMaskExactly(String id) throws IOException {
        JsonNode c = SegmentationFixtures.caseOf("paste", id);
        BinaryMask want = npyMask(SegmentationFixtures.npy("paste", id, "mask_full.npy"));
        BinaryMask got = MaskPaster.paste(goldenMask64(c), detection(c));
        assertEquals(want, got, id);
        if (c.get("checks").has("mask_pixels")) assertEquals(c.get("checks").get("mask_pixels").asLong(), got.count());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pasteCases")
    void decodeThenPasteMatchesFullMaskOutsideTheNearZeroBand(String id) throws IOException {
        JsonNode c = SegmentationFixtures.caseOf("paste", id);
        Detection d = detection(c);
        BinaryMask want = npyMask(SegmentationFixtures.npy("paste", id, "mask_full.npy"));
        BinaryMask got = MaskPaster.paste(SegmentationFixtures.decoder().decode(d.segIndices()), d);
        if (!d.validSegment()) {
            assertEquals(0, got.count());
            assertEquals(want, got);
            return;
        }
        float[] resized = SegmentationFixtures.npy("paste", id, "resized.npy").toFloatArray();
        PixelBox box = d.pixelBox();
        int flips = 0;
        for (int y = 0; y < want.height(); y++) {
            for (int x = 0; x < want.width(); x++) {
                if (want.get(x, y) == got.get(x, y)) continue;
                boolean inBox = y >= box.yMin() && y < box.yMax() && x >= box.xMin() && x < box.xMax();
                assertTrue(inBox, id + ": pixel (" + x + ", " + y + ") differs outside the box");
                float golden = resized[(y - box.yMin()) * box.width() + (x - box.xMin())];
                assertTrue(Math.abs(golden) < SegmentationFixtures.NEAR_ZERO_BAND,
                        id + ": pixel (" + x + ", " + y + ") differs with golden value " + golden);
                flips++;
            }
        }
        assertTrue(flips <= c.get("checks").get("near_zero_pixels").asInt(), id + ": " + flips + " flips");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pasteCases")
    void iousMatchGolden(String id) throws IOException {
        JsonNode c = SegmentationFixtures.caseOf("paste", id);
        Detection d = detection(c);
        double[] gt = SegmentationFixtures.doubles(c.get("gt_box"));
        // big_vision zeroes the tokens of a prediction it rejects at token level before scoring its box.
        NormalizedBox predicted = d.boxValid() && d.segValid() ? d.normalizedBox() : NormalizedBox.ZERO;
        assertRelative(c.get("box_iou").asDouble(), Iou.box(predicted, new NormalizedBox(gt[0], gt[1], gt[2], gt[3])), id);
        BinaryMask gtMask = npyMask(SegmentationFixtures.npy("paste", id, "gt_mask.npy"));
        BinaryMask predMask = MaskPaster.paste(goldenMask64(c), d);
        assertRelative(c.get("mask_iou").asDouble(), Iou.mask(gtMask, predMask), id);
    }

    @Test
    void identitySizeSkipsBothPasses() {
        float[] m = new float[64 * 64];
        for (int i = 0; i < m.length; i++) m[i] = (float) Math.sin(i * 0.37);
        assertArrayEquals(m, PilBilinearResize.resize(m, 64, 64, 64, 64));
    }

    @Test
    void downscaleAveragesInsteadOfSampling() {
        // A 1-pixel-wide output is the weighted mean of each row, not one sampled column.
        float[] m = new float[64 * 64];
        for (int y = 0; y < 64; y++) for (int x = 0; x < 64; x++) m[y * 64 + x] = x % 2 == 0 ? 1f : -1f;
        float[] r = PilBilinearResize.resize(m, 64, 64, 1, 64);
        for (float v : r) assertTrue(Math.abs(v) < 0.05, "row mean " + v);
    }

    @Test
    void emptyBoxGivesEmptyMask() {
        BinaryMask m = MaskPaster.paste(new float[64 * 64], new PixelBox(5, 5, 5, 9), 10, 10);
        assertEquals(0, m.count());
        assertFalse(m.get(6, 5));
    }

    private static void assertRelative(double want, double got, String id) {
        double tol = IOU_RELATIVE_TOLERANCE * Math.abs(want);
        assertEquals(want, got, tol, id);
    }
}
