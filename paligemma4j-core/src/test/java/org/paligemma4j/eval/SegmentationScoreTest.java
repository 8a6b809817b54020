package org.paligemma4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.tasks.MaskPaster;
import org.paligemma4j.testing.Fixtures;

class SegmentationScoreTest {

    private static BinaryMask mask(String rows) {
        String[] r = rows.split("/");
        boolean[] pixels = new boolean[r.length * r[0].length()];
        for (int y = 0; y < r.length; y++) for (int x = 0; x < r[0].length(); x++) pixels[y * r[0].length() + x] = r[y].charAt(x) == '#';
        return BinaryMask.of(r[0].length(), r.length, pixels);
    }

    @Test
    void meanAndCumulativeIouByHand() {
        SegmentationScore score = new SegmentationScore();
        assertEquals(1.0, score.add(mask("#./.."), mask("#./..")), 0, "1 px on 1 px");
        assertEquals(1.0 / 3, score.add(mask("##/#."), mask("#./..")), 1e-12, "3 px over 1 px");
        assertEquals(0.0, score.add(mask("../.."), mask("../..")), 0, "both empty: Iou.mask's 0");
        assertEquals((1 + 1.0 / 3 + 0) / 3, score.meanIou(), 1e-12);
        assertEquals((1 + 1) / (1.0 + 3), score.cumulativeIou(), 1e-12, "Σ intersections / Σ unions");
    }

    @Test
    void theMaskOfAnExampleIsTheUnionOfItsDecodedObjects() throws IOException {
        MaskDecoder decoder = MaskDecoder.load(Fixtures.path("segmentation", "vae-oid.random.npz"));
        String seg = "<seg001><seg002><seg003><seg004><seg005><seg006><seg007><seg008>"
                + "<seg009><seg010><seg011><seg012><seg013><seg014><seg015><seg016>";
        List<Detection> objects = DetectionParser.detections("<loc0100><loc0100><loc0600><loc0500>" + seg + " cat ; "
                + "<loc0400><loc0300><loc0900><loc0900>" + seg + " cat ; <loc0000><loc0000><loc0100><loc0100> box only", 64, 48);
        BinaryMask union = SegmentationScore.unionMask(objects, decoder, 64, 48);
        boolean[] a = MaskPaster.paste(decoder.decode(objects.get(0).segIndices()), objects.get(0)).toArray();
        boolean[] b = MaskPaster.paste(decoder.decode(objects.get(1).segIndices()), objects.get(1)).toArray();
        boolean[] expected = new boolean[a.length];
        for (int i = 0; i < a.length; i++) expected[i] = a[i] || b[i];
        assertTrue(objects.get(0).validSegment() && objects.get(1).validSegment() && !objects.get(2).hasSeg());
        assertArrayEquals(expected, union.toArray());
        assertTrue(union.count() > 0);
        assertEquals(0, SegmentationScore.unionMask(List.of(), decoder, 64, 48).count());
    }
}
