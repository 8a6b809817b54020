package org.paligemma4j.cli;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.PixelBox;
import org.paligemma4j.tasks.Segment;

/**
 * Draws detections onto the original image: masks as a semi-transparent tint, then each box's outline and a
 * tag with its label, then every box's outline on top. Objects with the same label share a colour. Only valid
 * objects are drawn.
 *
 * <p>The outline's outer ring lies exactly on the box's edge pixels (columns {@code xMin} and {@code xMax-1}, rows
 * {@code yMin} and {@code yMax-1}) and thickens inwards, so the picture shows the same pixels the JSON reports.
 * Shapes are filled without antialiasing so that the result is the same on every machine; only text is smoothed.
 */
final class DetectionPainter {

    /** Distinct, saturated colours that read on photos (Tableau 10). */
    private static final int[] PALETTE = {
        0x4E79A7, 0xF28E2B, 0xE15759, 0x76B7B2, 0x59A14F, 0xEDC948, 0xB07AA1, 0xFF9DA7, 0x9C755F, 0xBAB0AC
    };
    /** Share of the object colour in a masked pixel, in 1/256. */
    static final int MASK_ALPHA = 115;

    static {
        // Drawing needs no display; without this a desktop session's DISPLAY would be touched for nothing.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    /** The drawing, and whether label text could be rendered (it needs fonts, which a bare server may lack). */
    record Drawing(BufferedImage image, boolean labelled) {
        void writePng(Path file) throws IOException {
            if (!ImageIO.write(image, "png", file.toFile())) throw new IOException(file + ": no PNG writer available");
        }
    }

    private DetectionPainter() {}

    /** The colour of the {@code index}-th distinct label. */
    static Color colour(int index) {
        return new Color(PALETTE[index % PALETTE.length]);
    }

    /** Outline thickness: 1 px below 450 px on the shorter side, then 1 px more per 300 px. */
    static int lineWidth(int width, int height) {
        return Math.max(1, (Math.min(width, height) + 150) / 300);
    }

    static Drawing draw(RgbImage image, List<Segment> objects) {
        BufferedImage canvas = toBufferedImage(image);
        List<Segment> drawn = objects.stream().filter(s -> s.detection().valid()).toList();
        Map<String, Color> colours = new HashMap<>();
        for (Segment s : drawn) colours.computeIfAbsent(labelText(s.detection()), k -> colour(colours.size()));
        for (Segment s : drawn) {
            if (s.hasMask()) tint(canvas, s.mask(), colours.get(labelText(s.detection())));
        }
        Graphics2D g = canvas.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
            boolean labelled = true;
            for (Segment s : drawn) labelled &= tag(g, s.detection(), colours.get(labelText(s.detection())), image);
            // Outlines last, so that no tag hides another object's edge.
            int line = lineWidth(image.width(), image.height());
            for (Segment s : drawn) outline(g, s.detection().pixelBox(), line, colours.get(labelText(s.detection())));
            return new Drawing(canvas, labelled);
        } finally {
            g.dispose();
        }
    }

    private static String labelText(Detection d) {
        return d.label() == null ? "?" : d.label();
    }

    private static BufferedImage toBufferedImage(RgbImage image) {
        int w = image.width();
        int h = image.height();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[w];
        byte[] rgb = image.rgb();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                row[x] = (rgb[i] & 0xff) << 16 | (rgb[i + 1] & 0xff) << 8 | (rgb[i + 2] & 0xff);
            }
            out.setRGB(0, y, w, 1, row, 0, w);
        }
        return out;
    }

    /** Blends {@code colour} over the mask's pixels in integer arithmetic, so the result is exact everywhere. */
    private static void tint(BufferedImage canvas, BinaryMask mask, Color colour) {
        int c = colour.getRGB();
        for (int y = 0; y < mask.height(); y++) {
            for (int x = 0; x < mask.width(); x++) {
                if (!mask.get(x, y)) continue;
                int p = canvas.getRGB(x, y);
                int r = blend(p >> 16 & 0xff, c >> 16 & 0xff);
                int gr = blend(p >> 8 & 0xff, c >> 8 & 0xff);
                int b = blend(p & 0xff, c & 0xff);
                canvas.setRGB(x, y, r << 16 | gr << 8 | b);
            }
        }
    }

    private static int blend(int under, int over) {
        return (under * (256 - MASK_ALPHA) + over * MASK_ALPHA + 128) >> 8;
    }

    /** Four filled bars inside the box: rows yMin.., yMax-1.., columns xMin.., xMax-1.. (Graphics2D clips to the image). */
    private static void outline(Graphics2D g, PixelBox box, int line, Color colour) {
        g.setColor(colour);
        int t = Math.min(line, Math.min(box.width(), box.height()));
        g.fillRect(box.xMin(), box.yMin(), box.width(), t);
        g.fillRect(box.xMin(), box.yMax() - t, box.width(), t);
        g.fillRect(box.xMin(), box.yMin(), t, box.height());
        g.fillRect(box.xMax() - t, box.yMin(), t, box.height());
    }

    /**
     * A filled tag with the label, above the box when there is room, else just inside its top edge (the tag's
     * padding keeps the outline's outer ring in the box colour). Returns false when text cannot be rendered.
     */
    private static boolean tag(Graphics2D g, Detection d, Color colour, RgbImage image) {
        try {
            int size = Math.max(10, Math.min(image.width(), image.height()) / 32);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, size));
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            FontMetrics fm = g.getFontMetrics();
            String text = labelText(d);
            int pad = Math.max(2, size / 6);
            int tagWidth = fm.stringWidth(text) + 2 * pad;
            int tagHeight = fm.getAscent() + fm.getDescent() + 2 * pad;
            PixelBox box = d.pixelBox();
            int top = box.yMin() - tagHeight >= 0 ? box.yMin() - tagHeight : box.yMin();
            int left = Math.max(0, Math.min(box.xMin(), image.width() - tagWidth));
            g.setColor(colour);
            g.fillRect(left, top, tagWidth, tagHeight);
            g.setColor(luminance(colour) > 150 ? Color.BLACK : Color.WHITE);
            g.drawString(text, left + pad, top + pad + fm.getAscent());
            return true;
        } catch (RuntimeException | Error e) {
            // Headless JDKs without fonts fail here (fontconfig errors, "no fonts found"); boxes are already drawn.
            return false;
        }
    }

    private static int luminance(Color c) {
        return (299 * c.getRed() + 587 * c.getGreen() + 114 * c.getBlue()) / 1000;
    }
}
