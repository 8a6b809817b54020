package org.paligemma4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.tasks.MaskPaster;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code paligemma decode-output}: turns a detect/segment output string into objects with pixel boxes and,
 * given the mask VQ-VAE, into mask files. Needs no model, so outside checks can pin the post-processing.
 */
@Command(name = "decode-output", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Parse a PaliGemma detect/segment output into objects with boxes in image pixels and, with --vae and"
                    + " --out, decode and paste their masks.",
            "",
            "Boxes follow big_vision: pixel = (int) (loc / 1023 * size). Malformed objects (inverted box, token out"
                    + " of range, box empty after truncation, seg value > 127) are listed with valid = false."
        },
        footer = {
            "",
            "Files written to --out for each valid object i (0-based among the listed objects) that has 16 seg tokens:",
            "  mask64_<i>.npy  float32 64x64, the decoder output before thresholding",
            "  mask_<i>.npy    bool HxW, the full-image mask (resized into the box, > 0)",
            "",
            "Examples:",
            "  paligemma decode-output --width 640 --height 480 --json \\",
            "      --text '<loc0100><loc0200><loc0700><loc0900> cat'",
            "  paligemma decode-output --width 640 --height 480 \\",
            "      --vae vae-oid.npz --out masks/ --text \"$(cat segment-output.txt)\""
        })
public final class DecodeOutputCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--text", required = true, paramLabel = "TEXT",
            description = "The model's output text, e.g. '<loc0100><loc0200><loc0700><loc0900> cat'.")
    private String text;

    @Option(names = "--width", required = true, paramLabel = "W", description = "Width of the original image in pixels.")
    private int width;

    @Option(names = "--height", required = true, paramLabel = "H", description = "Height of the original image in pixels.")
    private int height;

    @Option(names = "--vae", paramLabel = "NPZ",
            description = "big_vision's mask VQ-VAE (vae-oid.npz); needed to decode <seg> tokens into masks.")
    private Path vae;

    @Option(names = "--out", paramLabel = "DIR", description = "Folder for the mask .npy files (created if missing; needs --vae).")
    private Path out;

    @Option(names = "--json", description = "Print {\"objects\":[...]} instead of a readable listing.")
    private boolean json;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (width <= 0 || height <= 0) {
            err.println("paligemma decode-output: --width and --height must be positive, got " + width + "x" + height);
            err.flush();
            return 2;
        }
        if (out != null && vae == null) {
            err.println("paligemma decode-output: --out needs --vae (the mask decoder weights) to write masks");
            err.flush();
            return 2;
        }
        try {
            List<Detection> objects = DetectionParser.detections(text, width, height);
            MaskDecoder decoder = vae == null ? null : MaskDecoder.load(vae);
            List<String> written = decoder == null ? List.of() : writeMasks(decoder, objects);
            PrintWriter o = spec.commandLine().getOut();
            o.print(json ? toJson(objects) + "\n" : listing(objects, written));
            o.flush();
            return 0;
        } catch (IOException | RuntimeException e) {
            err.println("paligemma decode-output: " + oneLine(e));
            err.flush();
            return 1;
        }
    }

    /** Decodes every valid object with seg tokens; writes its two files when --out is given. */
    private List<String> writeMasks(MaskDecoder decoder, List<Detection> objects) throws IOException {
        if (out != null) Files.createDirectories(out);
        List<String> written = new ArrayList<>();
        for (int i = 0; i < objects.size(); i++) {
            Detection d = objects.get(i);
            if (!d.validSegment()) continue;
            float[] mask64 = decoder.decode(d.segIndices());
            BinaryMask mask = MaskPaster.paste(mask64, d);
            if (out == null) continue;
            NpyArray.ofFloats(mask64, MaskDecoder.SIZE, MaskDecoder.SIZE).write(out.resolve("mask64_" + i + ".npy"));
            NpyArray.ofBooleans(mask.toArray(), height, width).write(out.resolve("mask_" + i + ".npy"));
            written.add("#" + i + ": " + out.resolve("mask64_" + i + ".npy") + ", " + out.resolve("mask_" + i + ".npy")
                    + " (" + mask.count() + " pixels)");
        }
        return written;
    }

    private static String toJson(List<Detection> objects) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ArrayNode array = root.putArray("objects");
        objects.forEach(d -> array.add(DetectionReport.objectJson(d)));
        return root.toString();
    }

    private String listing(List<Detection> objects, List<String> written) {
        StringBuilder s = new StringBuilder(DetectionReport.header(objects.size(), width, height)).append('\n');
        for (int i = 0; i < objects.size(); i++) s.append(DetectionReport.line(i, objects.get(i))).append('\n');
        if (vae != null && out == null) s.append("masks decoded; pass --out DIR to write them\n");
        for (String w : written) s.append("wrote ").append(w).append('\n');
        return s.toString();
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\n', ' ');
    }
}
