package org.paligemma4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.Segment;
import org.paligemma4j.tasks.TaskPrompts;
import org.paligemma4j.tasks.TaskResult;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What detect and segment share: the labels argument, the objects listing and JSON, and --draw. */
abstract class ObjectsCommand<R extends TaskResult> extends TaskCommand<R> {

    @Parameters(index = "1", paramLabel = "LABELS",
            description = "What to find: one label or several separated by ';', e.g. \"cat ; dog\".")
    String labelsText;

    @Option(names = "--draw", paramLabel = "PNG",
            description = "Write the image with the valid objects' labelled boxes (and masks) drawn on it, as PNG.")
    Path draw;

    /** The labels, checked by {@link #prepare()}. */
    List<String> labels;

    private DetectionPainter.Drawing drawing;

    /** The result's objects, with their masks where the task has them. */
    abstract List<Segment> objects(R result);

    @Override
    void prepare() throws IOException {
        try {
            labels = TaskPrompts.splitLabels(labelsText);
        } catch (IllegalArgumentException e) {
            throw usageError(e.getMessage());
        }
        if (draw != null) {
            Path folder = draw.toAbsolutePath().getParent();
            if (folder != null && !Files.isDirectory(folder)) throw new CliException(draw + ": folder " + folder + " does not exist");
            if (Files.isDirectory(draw)) throw new CliException(draw + ": is a folder; --draw needs a file name such as out.png");
        }
    }

    /** Adds the object's mask summary to its JSON (segment only). */
    void addMaskJson(Segment object, ObjectNode json) {}

    /** Text after the object's listing line (segment only). */
    String maskSummary(Segment object) {
        return "";
    }

    @Override
    void afterRun(R result, RgbImage picture) throws IOException {
        if (draw == null) return;
        drawing = DetectionPainter.draw(picture, objects(result));
        drawing.writePng(draw);
    }

    @Override
    void addJson(R result, ObjectNode json, RgbImage picture) {
        ArrayNode array = json.putArray("objects");
        for (Segment s : objects(result)) {
            ObjectNode o = DetectionReport.objectJson(s.detection());
            addMaskJson(s, o);
            array.add(o);
        }
        if (draw != null) json.put("drawing", draw.toString());
    }

    @Override
    void printDetails(R result, PrintStream out, RgbImage picture) {
        List<Segment> objects = objects(result);
        out.println(DetectionReport.header(objects.size(), picture.width(), picture.height()));
        for (int i = 0; i < objects.size(); i++) {
            out.println(DetectionReport.line(i, objects.get(i).detection()) + maskSummary(objects.get(i)));
        }
        if (drawing != null) {
            long drawn = objects.stream().filter(s -> s.detection().valid()).count();
            out.println("drew " + drawn + (drawn == 1 ? " object" : " objects") + " on " + draw
                    + (drawing.labelled() ? "" : " (labels left out: no fonts available)"));
        }
    }
}
