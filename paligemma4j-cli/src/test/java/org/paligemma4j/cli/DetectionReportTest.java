package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.DetectionParser;

class DetectionReportTest {

    @Test
    void maskJsonCountsPixelsAndRunsColumnByColumnStartingWithBackground() {
        // Rows: [1 0 0] [1 1 0]; columns read top to bottom: 1 1 | 0 1 | 0 0.
        BinaryMask mask = BinaryMask.of(3, 2, new boolean[] {true, false, false, true, true, false});
        assertEquals("{\"pixels\":3,\"rle\":{\"size\":[2,3],\"counts\":[0,2,1,1,2]}}", DetectionReport.maskJson(mask).toString());
        assertEquals("{\"pixels\":0,\"rle\":{\"size\":[2,3],\"counts\":[6]}}",
                DetectionReport.maskJson(BinaryMask.empty(3, 2)).toString());
        BinaryMask lastPixel = BinaryMask.of(2, 2, new boolean[] {false, false, false, true});
        assertEquals("[3,1]", DetectionReport.maskJson(lastPixel).get("rle").get("counts").toString());
    }

    @Test
    void listingLineNamesLabelPixelBoxTokensAndValidity() {
        var d = DetectionParser.detections("<loc0100><loc0200><loc0700><loc0900> cat ; <loc0700><loc0200><loc0100><loc0900>", 640, 480);
        assertEquals("#0  'cat'            x 125..563  y 46..328 px  loc [100, 200, 700, 900]  no mask  valid",
                DetectionReport.line(0, d.get(0)));
        assertEquals("#1  (no label)       x 125..563  y 328..46 px  loc [700, 200, 100, 900]  no mask"
                + "  INVALID (box not ordered: needs y2 > y1 and x2 > x1)", DetectionReport.line(1, d.get(1)));
        assertEquals("2 objects on a 640x480 image", DetectionReport.header(2, 640, 480));
        assertEquals("1 object on a 1x1 image", DetectionReport.header(1, 1, 1));
    }
}
