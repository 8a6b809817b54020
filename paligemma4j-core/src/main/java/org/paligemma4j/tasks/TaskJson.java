package org.paligemma4j.tasks;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The JSON form of task results, shared by every front end ({@code paligemma <task> --json} and the server's
 * task endpoints print the same objects). Field names and order are a contract: keep them stable.
 */
public final class TaskJson {
    private TaskJson() {}

    /**
     * {@code {"task","prompt","image":{"path"?,"width","height"},"text","ids","stopped_on_eos"}}: what every task
     * reports; {@code imagePath} is left out when null (an uploaded image has no path).
     */
    public static ObjectNode result(String task, TaskResult result, String imagePath, int width, int height) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("task", task);
        o.put("prompt", result.prompt());
        ObjectNode image = o.putObject("image");
        if (imagePath != null) image.put("path", imagePath);
        image.put("width", width).put("height", height);
        o.put("text", result.text());
        ArrayNode ids = o.putArray("ids");
        for (int id : result.ids()) ids.add(id);
        o.put("stopped_on_eos", result.output().stoppedOnEos());
        return o;
    }

    /**
     * Adds {@code "objects":[…]} to {@code json}: each object as {@link #object}, with {@code "mask"} (its
     * {@link #mask} or null) when {@code withMasks}.
     */
    public static ArrayNode addObjects(ObjectNode json, List<Segment> objects, boolean withMasks) {
        ArrayNode array = json.putArray("objects");
        for (Segment s : objects) {
            ObjectNode o = object(s.detection());
            if (withMasks) {
                if (s.hasMask()) o.set("mask", mask(s.mask()));
                else o.putNull("mask");
            }
            array.add(o);
        }
        return array;
    }

    /**
     * {@code {"label":…,"loc":[y1,x1,y2,x2],"seg":[16 ints]|null,"box":{"x_min":…,"y_min":…,"x_max":…,"y_max":…},"valid":…}},
     * the box in the original image's pixels per big_vision (the decode-output contract).
     */
    public static ObjectNode object(Detection d) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("label", d.label());
        ArrayNode loc = o.putArray("loc");
        for (int v : d.loc().toArray()) loc.add(v);
        if (d.seg() == null) {
            o.putNull("seg");
        } else {
            ArrayNode seg = o.putArray("seg");
            d.seg().forEach(seg::add);
        }
        PixelBox b = d.pixelBox();
        ObjectNode box = o.putObject("box");
        box.put("x_min", b.xMin());
        box.put("y_min", b.yMin());
        box.put("x_max", b.xMax());
        box.put("y_max", b.yMax());
        o.put("valid", d.valid());
        return o;
    }

    /**
     * {@code {"pixels":N,"rle":{"size":[H,W],"counts":[…]}}}: the pixel count and COCO's uncompressed run-length
     * encoding (column-major runs, starting with a run of background that may be 0), which pycocotools reads.
     */
    public static ObjectNode mask(BinaryMask mask) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("pixels", mask.count());
        ObjectNode rle = o.putObject("rle");
        rle.putArray("size").add(mask.height()).add(mask.width());
        ArrayNode counts = rle.putArray("counts");
        for (long run : mask.cocoRunLengths()) counts.add(run);
        return o;
    }
}
