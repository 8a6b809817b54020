package org.paligemma4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Locale;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.PixelBox;
import org.paligemma4j.tasks.TaskJson;

/**
 * How the CLI shows detected objects, in one place for decode-output, detect and segment: the JSON object of the
 * decode-output contract and a readable listing line.
 */
final class DetectionReport {
    private DetectionReport() {}

    /**
     * {@code {"label":…,"loc":[y1,x1,y2,x2],"seg":[16 ints]|null,"box":{"x_min":…,"y_min":…,"x_max":…,"y_max":…},"valid":…}},
     * the box per big_vision (the decode-output contract; keep the field names and order stable).
     */
    static ObjectNode objectJson(Detection d) {
        return TaskJson.object(d);
    }

    /**
     * {@code {"pixels":N,"rle":{"size":[H,W],"counts":[…]}}}: the pixel count and COCO's uncompressed run-length
     * encoding (column-major runs, starting with a run of background that may be 0), which pycocotools reads.
     */
    static ObjectNode maskJson(BinaryMask mask) {
        return TaskJson.mask(mask);
    }

    /** {@code "3 objects on a 640x480 image"}. */
    static String header(int objects, int width, int height) {
        return objects + (objects == 1 ? " object" : " objects") + " on a " + width + "x" + height + " image";
    }

    /** {@code "#0  'cat'            x 125..563  y 46..328 px  loc [100, 200, 700, 900]  no mask  valid"}. */
    static String line(int index, Detection d) {
        PixelBox b = d.pixelBox();
        return String.format(Locale.ROOT, "#%d  %-16s x %d..%d  y %d..%d px  loc %s  %s  %s", index,
                d.label() == null ? "(no label)" : "'" + d.label() + "'", b.xMin(), b.xMax(), b.yMin(), b.yMax(),
                Arrays.toString(d.loc().toArray()), d.hasSeg() ? "16 seg tokens" : "no mask",
                d.valid() ? "valid" : "INVALID (" + invalidReason(d) + ")");
    }

    static String invalidReason(Detection d) {
        if (!d.loc().inRange()) return "location token out of 0..1023";
        if (!d.boxValid()) return "box not ordered: needs y2 > y1 and x2 > x1";
        if (!d.pixelBoxValid()) return "box is empty in pixels";
        return "seg token out of 0..127";
    }
}
