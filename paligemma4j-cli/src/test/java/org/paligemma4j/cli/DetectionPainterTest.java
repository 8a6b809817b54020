package org.paligemma4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.PixelBox;
import org.paligemma4j.tasks.Segment;

/** The drawing shows each valid box exactly on the pixels its parsed box names, and nothing else changes. */
class DetectionPainterTest {

    private static final int W = 160;
    private static final int H = 120;
    // cat: y 60..111, x 40..99 px; dog: y 7..52, x 100..150 px; the third is inverted (y2 < y1) and not drawn.
    private static final String TEXT = "<loc0512><loc0256><loc0950><loc0640> cat ; <loc0060><loc0640><loc0450><loc0960> dog ; "
            + "<loc0900><loc0010><loc0600><loc0200> bad";

    /** A gradient, so that every pixel differs from the palette and from its neighbours. */
    private static RgbImage gradient(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                rgb[i] = (byte) (x * 255 / w);
                rgb[i + 1] = (byte) (y * 255 / h);
                rgb[i + 2] = 33;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    private static int original(RgbImage image, int x, int y) {
        return image.get(x, y, 0) << 16 | image.get(x, y, 1) << 8 | image.get(x, y, 2);
    }

    private static int rgb(BufferedImage image, int x, int y) {
        return image.getRGB(x, y) & 0xffffff;
    }

    private static int colour(int index) {
        return DetectionPainter.colour(index).getRGB() & 0xffffff;
    }

    /** The pixels of the box's outer ring: columns xMin and xMax-1, rows yMin and yMax-1. */
    private static void assertOutline(BufferedImage image, PixelBox b, int colour, String what) {
        for (int x = b.xMin(); x < b.xMax(); x++) {
            assertEquals(colour, rgb(image, x, b.yMin()), what + " top edge at x " + x);
            assertEquals(colour, rgb(image, x, b.yMax() - 1), what + " bottom edge at x " + x);
        }
        for (int y = b.yMin(); y < b.yMax(); y++) {
            assertEquals(colour, rgb(image, b.xMin(), y), what + " left edge at y " + y);
            assertEquals(colour, rgb(image, b.xMax() - 1, y), what + " right edge at y " + y);
        }
    }

    @Test
    void boxOutlinesLieOnTheParsedBoxEdgesAndTheRestKeepsTheOriginal(@TempDir Path dir) throws IOException {
        RgbImage image = gradient(W, H);
        List<Detection> objects = DetectionParser.detections(TEXT, W, H);
        PixelBox cat = objects.get(0).pixelBox();
        PixelBox dog = objects.get(1).pixelBox();
        assertEquals(new PixelBox(60, 40, 111, 100), cat);
        assertEquals(new PixelBox(7, 100, 52, 150), dog);
        assertFalse(objects.get(2).valid());

        DetectionPainter.Drawing drawing = DetectionPainter.draw(image, objects.stream().map(d -> new Segment(d, null)).toList());
        Path png = dir.resolve("boxes.png");
        drawing.writePng(png);
        BufferedImage read = ImageIO.read(png.toFile());
        assertEquals(W, read.getWidth());
        assertEquals(H, read.getHeight());
        assertTrue(drawing.labelled());

        assertOutline(read, cat, colour(0), "cat");
        assertOutline(read, dog, colour(1), "dog");
        // 1 px lines at this size: the ring just inside is the picture again.
        assertEquals(original(image, cat.xMin() + 1, cat.yMax() - 2), rgb(read, cat.xMin() + 1, cat.yMax() - 2));
        // Just outside the boxes on the left, right and bottom: untouched (the tags sit above the boxes).
        for (int y = cat.yMin(); y < cat.yMax(); y++) {
            assertEquals(original(image, cat.xMin() - 1, y), rgb(read, cat.xMin() - 1, y), "left of cat at y " + y);
        }
        for (int y = dog.yMin(); y < dog.yMax(); y++) {
            assertEquals(original(image, dog.xMax(), y), rgb(read, dog.xMax(), y), "right of dog at y " + y);
        }
        for (int x = cat.xMin(); x < cat.xMax(); x++) {
            assertEquals(original(image, x, cat.yMax()), rgb(read, x, cat.yMax()), "below cat at x " + x);
        }
        // The inverted object covers rows 70..105, columns 1..31: nothing drawn there.
        for (int y = 70; y < 106; y++) {
            for (int x = 1; x < 32; x++) assertEquals(original(image, x, y), rgb(read, x, y), "invalid object at " + x + "," + y);
        }
        // The label tags are drawn above the boxes.
        assertTrue(countChanged(image, read, cat.xMin(), cat.yMin() - 8, cat.xMin() + 12, cat.yMin()) > 0, "cat tag");
    }

    @Test
    void masksAreTintedAndTheirBoxesStillOutlined() {
        RgbImage image = gradient(W, H);
        Detection dog = DetectionParser.detections(TEXT, W, H).get(1);
        boolean[] pixels = new boolean[W * H];
        for (int y = 30; y < 45; y++) {
            for (int x = 110; x < 140; x++) pixels[y * W + x] = true;
        }
        BinaryMask mask = BinaryMask.of(W, H, pixels);
        BufferedImage drawn = DetectionPainter.draw(image, List.of(new Segment(dog, mask))).image();
        int c = colour(0);
        for (int y = 30; y < 45; y++) {
            for (int x = 110; x < 140; x++) {
                int o = original(image, x, y);
                int want = blend(o >> 16 & 0xff, c >> 16 & 0xff) << 16 | blend(o >> 8 & 0xff, c >> 8 & 0xff) << 8 | blend(o & 0xff, c & 0xff);
                assertEquals(want, rgb(drawn, x, y), "tinted mask pixel " + x + "," + y);
            }
        }
        assertEquals(original(image, 120, 47), rgb(drawn, 120, 47), "inside the box, outside the mask");
        assertOutline(drawn, dog.pixelBox(), c, "dog");
    }

    @Test
    void largerImagesGetThickerOutlinesThatGrowInwards() {
        assertEquals(1, DetectionPainter.lineWidth(200, 150));
        assertEquals(2, DetectionPainter.lineWidth(640, 480));
        assertEquals(4, DetectionPainter.lineWidth(1920, 1080));
        RgbImage image = gradient(640, 480);
        Detection cat = DetectionParser.detections(TEXT, 640, 480).get(0);
        BufferedImage drawn = DetectionPainter.draw(image, List.of(new Segment(cat, null))).image();
        PixelBox b = cat.pixelBox();
        assertOutline(drawn, b, colour(0), "outer ring");
        assertOutline(drawn, new PixelBox(b.yMin() + 1, b.xMin() + 1, b.yMax() - 1, b.xMax() - 1), colour(0), "second ring");
        assertEquals(original(image, b.xMin() + 2, b.yMax() - 3), rgb(drawn, b.xMin() + 2, b.yMax() - 3), "third ring");
        assertEquals(original(image, b.xMin() - 1, b.yMax() - 3), rgb(drawn, b.xMin() - 1, b.yMax() - 3), "outside");
    }

    private static int blend(int under, int over) {
        return (under * (256 - DetectionPainter.MASK_ALPHA) + over * DetectionPainter.MASK_ALPHA + 128) >> 8;
    }

    private static int countChanged(RgbImage image, BufferedImage drawn, int x0, int y0, int x1, int y1) {
        int n = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) if (original(image, x, y) != rgb(drawn, x, y)) n++;
        }
        return n;
    }
}
