package org.paligemma4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * What {@code train} leaves beside {@code training_log.jsonl} for people and spreadsheets: the same log as CSV
 * ({@code training_log.csv}: step, loss, lr, grad_norm, tokens, seconds, val_loss) and the loss curve as a PNG
 * ({@code loss_curve.png}: training loss per step, validation loss as points). Both are rebuilt from the whole
 * JSONL log, so a resumed run's report covers every step.
 */
final class TrainingLogReport {
    private static final int WIDTH = 800, HEIGHT = 480, MARGIN_LEFT = 70, MARGIN_RIGHT = 20, MARGIN_TOP = 30, MARGIN_BOTTOM = 50;

    private TrainingLogReport() {}

    /** Writes training_log.csv and loss_curve.png into {@code out} from its training_log.jsonl. */
    static void write(Path out) throws IOException {
        List<double[]> train = new ArrayList<>(), validation = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        Path log = out.resolve("training_log.jsonl");
        try (Writer csv = Files.newBufferedWriter(out.resolve("training_log.csv"), StandardCharsets.UTF_8)) {
            csv.write("step,loss,lr,grad_norm,tokens,seconds,val_loss\n");
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                JsonNode n = json.readTree(line);
                int step = n.path("step").asInt();
                if (n.has("val_loss")) {
                    validation.add(new double[] {step, n.get("val_loss").asDouble()});
                    csv.write(step + ",,,,,," + n.get("val_loss").asText() + "\n");
                } else {
                    train.add(new double[] {step, n.path("loss").asDouble()});
                    csv.write(String.join(",", Integer.toString(step), n.path("loss").asText(), n.path("lr").asText(),
                            n.path("grad_norm").asText(), n.path("tokens").asText(), n.path("seconds").asText(), "") + "\n");
                }
            }
        }
        ImageIO.write(plot(train, validation), "png", out.resolve("loss_curve.png").toFile());
    }

    /** Loss against step: a line for training, dots for validation, with labelled axes. */
    static BufferedImage plot(List<double[]> train, List<double[]> validation) {
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        double maxStep = 1, maxLoss = 1e-9, minLoss = Double.MAX_VALUE;
        for (List<double[]> series : List.of(train, validation)) {
            for (double[] p : series) {
                maxStep = Math.max(maxStep, p[0]);
                if (Double.isFinite(p[1])) {
                    maxLoss = Math.max(maxLoss, p[1]);
                    minLoss = Math.min(minLoss, p[1]);
                }
            }
        }
        if (minLoss == Double.MAX_VALUE) minLoss = 0;
        double lo = Math.min(0, minLoss), hi = maxLoss * 1.05;
        int plotW = WIDTH - MARGIN_LEFT - MARGIN_RIGHT, plotH = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
        g.setColor(new Color(230, 230, 230));
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i <= 5; i++) {
            int y = MARGIN_TOP + plotH - plotH * i / 5;
            g.setColor(new Color(230, 230, 230));
            g.drawLine(MARGIN_LEFT, y, MARGIN_LEFT + plotW, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.3g", lo + (hi - lo) * i / 5), 8, y + 4);
            int x = MARGIN_LEFT + plotW * i / 5;
            g.drawString(String.format(Locale.ROOT, "%.0f", maxStep * i / 5), x - 8, HEIGHT - MARGIN_BOTTOM + 18);
        }
        g.setColor(Color.BLACK);
        g.drawRect(MARGIN_LEFT, MARGIN_TOP, plotW, plotH);
        g.drawString("step", MARGIN_LEFT + plotW / 2 - 12, HEIGHT - 12);
        g.drawString("loss", 8, MARGIN_TOP - 10);
        Path2D.Double line = new Path2D.Double();
        boolean started = false;
        for (double[] p : train) {
            if (!Double.isFinite(p[1])) continue;
            double x = MARGIN_LEFT + plotW * p[0] / maxStep, y = MARGIN_TOP + plotH - plotH * (p[1] - lo) / (hi - lo);
            if (started) line.lineTo(x, y);
            else line.moveTo(x, y);
            started = true;
        }
        g.setColor(new Color(31, 119, 180));
        g.setStroke(new BasicStroke(1.6f));
        g.draw(line);
        g.setColor(new Color(214, 39, 40));
        for (double[] p : validation) {
            if (!Double.isFinite(p[1])) continue;
            int x = (int) Math.round(MARGIN_LEFT + plotW * p[0] / maxStep), y = (int) Math.round(MARGIN_TOP + plotH - plotH * (p[1] - lo) / (hi - lo));
            g.fillOval(x - 4, y - 4, 8, 8);
        }
        g.setColor(new Color(31, 119, 180));
        g.drawString("training loss", WIDTH - 200, MARGIN_TOP - 10);
        if (!validation.isEmpty()) {
            g.setColor(new Color(214, 39, 40));
            g.drawString("● validation loss", WIDTH - 110, MARGIN_TOP - 10);
        }
        g.dispose();
        return image;
    }
}
