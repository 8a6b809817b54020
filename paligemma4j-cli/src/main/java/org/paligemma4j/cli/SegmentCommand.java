package org.paligemma4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.tasks.PaliGemmaTasks;
import org.paligemma4j.tasks.Segment;
import org.paligemma4j.tasks.SegmentResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "segment", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Find objects with their boxes and full-resolution masks (prompt \"segment cat\").",
                "Masks are decoded from the 16 <seg> tokens of each object by big_vision's mask VQ-VAE (vae-oid.npz,"
                        + " pass --vae) and pasted into the box as big_vision does. Without --vae the objects keep"
                        + " their boxes and no mask is decoded.",
                "With --json one object is printed at the end, with the fields of detect,",
                "  masks_decoded, note (when masks need --vae), and for each object",
                "  mask: {pixels, rle {size [H,W], counts}} or null, where rle is COCO's",
                "  uncompressed run-length (column-major, starting with background)."},
        footer = {"", "Examples:",
                "  paligemma segment --model paligemma2-3b-mix-448 --vae vae-oid.npz \\",
                "      cat.jpg cat --draw mask.png",
                "  PALIGEMMA_VAE=vae-oid.npz paligemma segment cat.jpg \"cat ; dog\" --json"})
final class SegmentCommand extends ObjectsCommand<SegmentResult> {
    static final String MASKS_NEED_VAE = "masks need big_vision's mask VQ-VAE: pass --vae vae-oid.npz (or set PALIGEMMA_VAE)";

    @Option(names = "--vae", paramLabel = "NPZ", defaultValue = "${env:PALIGEMMA_VAE}",
            description = "big_vision's mask VQ-VAE, vae-oid.npz (default: $PALIGEMMA_VAE); without it no masks are decoded.")
    Path vae;

    private MaskDecoder decoder;

    @Override
    void prepare() throws IOException {
        super.prepare();
        if (vae != null) decoder = MaskDecoder.load(vae);
    }

    @Override
    SegmentResult run(PaliGemmaTasks tasks, RgbImage picture) {
        return tasks.withMaskDecoder(decoder).segment(picture, labels);
    }

    @Override
    List<Segment> objects(SegmentResult result) {
        return result.objects();
    }

    @Override
    void addMaskJson(Segment object, ObjectNode json) {
        if (object.hasMask()) json.set("mask", DetectionReport.maskJson(object.mask()));
        else json.putNull("mask");
    }

    @Override
    String maskSummary(Segment object) {
        return object.hasMask() ? "  mask " + object.mask().count() + " px" : "";
    }

    @Override
    void addJson(SegmentResult result, ObjectNode json, RgbImage picture) {
        super.addJson(result, json, picture);
        json.put("masks_decoded", result.masksDecoded());
        if (result.masksNeedDecoder()) json.put("note", MASKS_NEED_VAE);
    }

    @Override
    void printDetails(SegmentResult result, PrintStream out, RgbImage picture) {
        super.printDetails(result, out, picture);
        if (result.masksNeedDecoder()) out.println(MASKS_NEED_VAE);
    }
}
