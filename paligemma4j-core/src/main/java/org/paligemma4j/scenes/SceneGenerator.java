package org.paligemma4j.scenes;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.font.FontRenderContext;
import java.awt.font.GlyphVector;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws synthetic scenes with Java2D: one to four shapes ({@link Shape}) in {@link Colour}s, of random sizes
 * and positions (overlapping a little at most, so every object stays visible, and with centres some pixels apart
 * horizontally, so that their reading order is plain to see), on a pale solid or gradient
 * background, sometimes with a short word in a large bold font, and light pixel noise on top.
 *
 * <p>Scene {@code i} of seed {@code s} depends only on {@code (s, i, size, style)}, so a data set can be regenerated
 * in parts and two seeds share no scene. The pixels also depend on the JDK's font rasteriser for the word: the
 * same seed gives the same files on the same JDK and fonts.
 */
public final class SceneGenerator {

    /** The words that may be written on a scene (the OCR targets): short, upper case, no shape or colour names. */
    public static final List<String> WORDS = List.of("CAT", "DOG", "SUN", "SKY", "MAP", "BOX", "CUP", "KEY",
            "JAVA", "TREE", "MOON", "FISH", "BIRD", "LAMP", "ROAD", "SHIP", "WIND", "GOLD", "RAIN", "SNOW",
            "HELLO", "PIXEL", "MODEL", "LIGHT", "RIVER", "TRAIN", "PLANT", "STONE", "CLOUD", "HOUSE");

    /** The most objects a scene holds. */
    public static final int MAX_OBJECTS = 4;

    private static final double MAX_OVERLAP = 0.2; // of the smaller box's area
    /**
     * The least horizontal distance between two objects' centres, as a fraction of the picture's side. Captions and
     * detections list objects left to right by centre ({@link Scene#READING_ORDER}); centres a pixel or two apart
     * made that order a coin toss to a model that sees 14-pixel patches (at 112 pixels, 20 of 23 wrong-order captions
     * of the demo model's w7 run had centres 0–4 pixels apart). One sixteenth is 7 pixels at 112, half a patch.
     */
    static final double MIN_CENTRE_GAP = 1 / 16.0;
    private static final int NOISE = 6; // ± per channel

    /**
     * How the pictures are drawn: an object's width and a word's font size as fractions of the picture's side
     * (uniform between the bounds), and the share of scenes with a word.
     */
    public record Style(String name, double minObject, double maxObject, double minFont, double maxFont, double wordProbability) {
        /** The demo model's first runs (w1 to w6) were trained on these. */
        public static final Style STANDARD = new Style("standard", 0.14, 0.38, 0.13, 0.18, 0.35);
        /**
         * Larger objects and words, and words in half of the scenes. At 112 pixels (8×8 patches of 14) the demo model
         * trained on {@link #STANDARD} named 90–95% of the objects 20 pixels or wider right but only 59% of those
         * under 20, and read 24% of the words (15–20 point type): the smallest sizes were below what a patch resolves.
         */
        public static final Style LARGE = new Style("large", 0.2, 0.4, 0.2, 0.26, 0.5);

        public Style {
            if (!(0 < minObject && minObject <= maxObject && maxObject < 1 && 0 < minFont && minFont <= maxFont && maxFont < 1
                    && 0 <= wordProbability && wordProbability <= 1)) {
                throw new IllegalArgumentException("bad scene style " + name);
            }
        }

        /** {@code standard} or {@code large}. */
        public static Style named(String name) {
            return switch (name) {
                case "standard" -> STANDARD;
                case "large" -> LARGE;
                default -> throw new IllegalArgumentException("unknown scene style '" + name + "' (standard or large)");
            };
        }
    }

    private final int size;
    private final Style style;

    public SceneGenerator(int size) {
        this(size, Style.STANDARD);
    }

    public SceneGenerator(int size, Style style) {
        if (size < 32 || size > 4096) throw new IllegalArgumentException("scene size must be 32..4096 pixels, got " + size);
        this.size = size;
        this.style = java.util.Objects.requireNonNull(style, "style");
    }

    public int size() {
        return size;
    }

    /** A drawn scene and its ground truth. */
    public record Drawn(Scene scene, BufferedImage image) {}

    /** The random stream of scene {@code index} of {@code seed}: independent of every other scene. */
    static SplittableRandom random(long seed, long index) {
        return new SplittableRandom(mix(mix(seed) ^ (index + 0x632BE59BD9B4E019L)));
    }

    public Drawn draw(long seed, long index) {
        SplittableRandom rng = random(seed, index);
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            String background = paintBackground(g, rng);
            List<SceneObject> objects = placeObjects(rng);
            for (SceneObject o : objects) {
                g.setColor(new Color(o.colour().rgb()));
                g.fill(outline(o));
            }
            String word = rng.nextDouble() < style.wordProbability() ? WORDS.get(rng.nextInt(WORDS.size())) : null;
            if (word != null) drawWord(g, rng, word, objects);
            addNoise(image, rng);
            return new Drawn(new Scene(size, background, objects, word), image);
        } finally {
            g.dispose();
        }
    }

    private String paintBackground(Graphics2D g, SplittableRandom rng) {
        Color a = pale(rng), b = pale(rng);
        int kind = rng.nextInt(3);
        switch (kind) {
            case 0 -> g.setColor(a);
            case 1 -> g.setPaint(new GradientPaint(0, 0, a, 0, size, b));
            default -> g.setPaint(new GradientPaint(0, 0, a, size, 0, b));
        }
        g.fillRect(0, 0, size, size);
        String from = String.format("#%06x", a.getRGB() & 0xFFFFFF), to = String.format("#%06x", b.getRGB() & 0xFFFFFF);
        return switch (kind) {
            case 0 -> "solid " + from;
            case 1 -> "vertical gradient " + from + " " + to;
            default -> "horizontal gradient " + from + " " + to;
        };
    }

    private static Color pale(SplittableRandom rng) {
        return new Color(rng.nextInt(190, 251), rng.nextInt(190, 251), rng.nextInt(190, 251));
    }

    private List<SceneObject> placeObjects(SplittableRandom rng) {
        int wanted = 1 + rng.nextInt(MAX_OBJECTS);
        List<SceneObject> placed = new ArrayList<>();
        int minGap = minCentreGapTwice();
        for (int attempt = 0; attempt < 200 && placed.size() < wanted; attempt++) {
            Shape shape = Shape.values()[rng.nextInt(Shape.values().length)];
            Colour colour = Colour.values()[rng.nextInt(Colour.values().length)];
            int w = (int) Math.round(size * (style.minObject() + (style.maxObject() - style.minObject()) * rng.nextDouble()));
            int h = shape == Shape.TRIANGLE ? (int) Math.round(w * (0.8 + 0.2 * rng.nextDouble())) : w;
            int x = rng.nextInt(size - w + 1), y = rng.nextInt(size - h + 1);
            SceneObject candidate = new SceneObject(shape, colour, y, x, y + h, x + w);
            if (placed.stream().allMatch(p -> overlap(p, candidate) <= MAX_OVERLAP && centreGapTwice(p, candidate) >= minGap)) {
                placed.add(candidate);
            }
        }
        return placed;
    }

    /** {@link #MIN_CENTRE_GAP} in the units of {@link #centreGapTwice}: twice the pixels, so no rounding is needed. */
    int minCentreGapTwice() {
        return (int) Math.ceil(2 * size * MIN_CENTRE_GAP);
    }

    /** Twice the horizontal distance between two objects' box centres, the key {@link Scene#READING_ORDER} sorts on. */
    static int centreGapTwice(SceneObject a, SceneObject b) {
        return Math.abs(a.xMin() + a.xMax() - b.xMin() - b.xMax());
    }

    /** Intersection area over the smaller box's area. */
    static double overlap(SceneObject a, SceneObject b) {
        int iw = Math.min(a.xMax(), b.xMax()) - Math.max(a.xMin(), b.xMin());
        int ih = Math.min(a.yMax(), b.yMax()) - Math.max(a.yMin(), b.yMin());
        if (iw <= 0 || ih <= 0) return 0;
        double smaller = Math.min((double) a.width() * a.height(), (double) b.width() * b.height());
        return iw * (double) ih / smaller;
    }

    /** The filled outline of an object, touching all four sides of its box. */
    static java.awt.Shape outline(SceneObject o) {
        double x = o.xMin(), y = o.yMin(), w = o.width(), h = o.height();
        return switch (o.shape()) {
            case CIRCLE -> new Ellipse2D.Double(x, y, w, h);
            case SQUARE -> new Rectangle2D.Double(x, y, w, h);
            case TRIANGLE -> polygon(new double[] {0.5, 1, 0}, new double[] {0, 1, 1}, x, y, w, h);
            case STAR -> star(x, y, w, h);
        };
    }

    /** A five-pointed star, scaled so that its points touch the box's sides. */
    private static java.awt.Shape star(double x, double y, double w, double h) {
        double[] px = new double[10], py = new double[10];
        for (int i = 0; i < 10; i++) {
            double r = i % 2 == 0 ? 1 : 0.45;
            double angle = -Math.PI / 2 + i * Math.PI / 5;
            px[i] = r * Math.cos(angle);
            py[i] = r * Math.sin(angle);
        }
        double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            minX = Math.min(minX, px[i]);
            maxX = Math.max(maxX, px[i]);
            minY = Math.min(minY, py[i]);
            maxY = Math.max(maxY, py[i]);
        }
        for (int i = 0; i < 10; i++) {
            px[i] = (px[i] - minX) / (maxX - minX);
            py[i] = (py[i] - minY) / (maxY - minY);
        }
        return polygon(px, py, x, y, w, h);
    }

    private static java.awt.Shape polygon(double[] ux, double[] uy, double x, double y, double w, double h) {
        Path2D.Double p = new Path2D.Double();
        p.moveTo(x + ux[0] * w, y + uy[0] * h);
        for (int i = 1; i < ux.length; i++) p.lineTo(x + ux[i] * w, y + uy[i] * h);
        p.closePath();
        return p;
    }

    /** Writes the word where it covers the least of the shapes, in a dark colour with a pale outline so it reads. */
    private void drawWord(Graphics2D g, SplittableRandom rng, String word, List<SceneObject> objects) {
        Font font = new Font(Font.SANS_SERIF, Font.BOLD, Math.max(8, (int) Math.round(size * (style.minFont() + (style.maxFont() - style.minFont()) * rng.nextDouble()))));
        FontRenderContext frc = g.getFontRenderContext();
        GlyphVector glyphs = font.createGlyphVector(frc, word);
        Rectangle2D bounds = glyphs.getVisualBounds();
        // Shrink a word that would not fit across the picture.
        if (bounds.getWidth() > size * 0.9) {
            font = font.deriveFont((float) (font.getSize2D() * size * 0.9 / bounds.getWidth()));
            glyphs = font.createGlyphVector(frc, word);
            bounds = glyphs.getVisualBounds();
        }
        double best = Double.MAX_VALUE;
        int bestX = 0, bestY = 0;
        for (int attempt = 0; attempt < 24; attempt++) {
            int x = rng.nextInt(Math.max(1, (int) (size - bounds.getWidth()) - 2)) + 1;
            int y = rng.nextInt(Math.max(1, (int) (size - bounds.getHeight()) - 2)) + 1;
            SceneObject area = new SceneObject(Shape.SQUARE, Colour.RED, y, x, y + (int) bounds.getHeight(), x + (int) bounds.getWidth());
            double covered = 0;
            for (SceneObject o : objects) covered += overlap(o, area);
            if (covered < best) {
                best = covered;
                bestX = x;
                bestY = y;
            }
        }
        float left = (float) (bestX - bounds.getX()), baseline = (float) (bestY - bounds.getY());
        java.awt.Shape text = glyphs.getOutline(left, baseline);
        g.setColor(new Color(255, 255, 255, 200));
        g.setStroke(new BasicStroke(Math.max(2f, size / 80f), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        g.draw(text);
        int shade = rng.nextInt(0, 60);
        g.setColor(new Color(shade, shade, shade + rng.nextInt(0, 40)));
        g.fill(text);
    }

    private static void addNoise(BufferedImage image, SplittableRandom rng) {
        int w = image.getWidth(), h = image.getHeight();
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                int r = clamp(((p >> 16) & 0xFF) + rng.nextInt(-NOISE, NOISE + 1));
                int gr = clamp(((p >> 8) & 0xFF) + rng.nextInt(-NOISE, NOISE + 1));
                int b = clamp((p & 0xFF) + rng.nextInt(-NOISE, NOISE + 1));
                row[x] = r << 16 | gr << 8 | b;
            }
            image.setRGB(0, y, w, 1, row, 0, w);
        }
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
