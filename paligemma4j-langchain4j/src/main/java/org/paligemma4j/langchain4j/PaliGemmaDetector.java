package org.paligemma4j.langchain4j;

import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.exception.InvalidRequestException;
import java.io.IOException;
import java.util.List;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.DetectResult;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.tasks.MaskPaster;
import org.paligemma4j.tasks.Segment;
import org.paligemma4j.tasks.SegmentResult;
import org.paligemma4j.tasks.TaskPrompts;

/**
 * Detection and segmentation beside a chat model, with the library's typed results: LangChain4j has no box type,
 * so these return {@link DetectResult} / {@link SegmentResult}, whose objects have labels, boxes in the original
 * image's pixels and (segment, with the builder's {@code maskDecoder}) full-resolution masks. Same prompts and
 * parsing as {@link org.paligemma4j.tasks.PaliGemmaTasks}; runs through the chat model's engine.
 *
 * <pre>{@code
 * for (Detection d : chatModel.detector().detect(ImageContent.from(Path.of("street.jpg").toUri()), "car ; person").validObjects()) {
 *     System.out.println(d.label() + " " + d.pixelBox());
 * }
 * }</pre>
 */
public final class PaliGemmaDetector {
    private final ChatRuntime runtime;
    private MaskDecoder maskDecoder;

    PaliGemmaDetector(ChatRuntime runtime) {
        this.runtime = runtime;
    }

    /** The objects named by {@code labels} ({@code "cat ; dog"}), with the model's default generation options. */
    public DetectResult detect(ImageContent image, String labels) {
        RgbImage picture = ChatRuntime.image(image, 1);
        String prompt = prompt("detect", labels);
        GenerationResult r = run(picture, prompt);
        return new DetectResult(prompt, r, DetectionParser.detections(r.text(), picture.width(), picture.height()));
    }

    /** The objects named by {@code labels} with their masks (null masks without the builder's {@code maskDecoder}). */
    public SegmentResult segment(ImageContent image, String labels) {
        RgbImage picture = ChatRuntime.image(image, 1);
        String prompt = prompt("segment", labels);
        GenerationResult r = run(picture, prompt);
        MaskDecoder decoder = maskDecoder();
        List<Segment> objects = DetectionParser.detections(r.text(), picture.width(), picture.height()).stream()
                .map(d -> new Segment(d, decoder == null || !d.validSegment() ? null : MaskPaster.paste(decoder.decode(d.segIndices()), d)))
                .toList();
        return new SegmentResult(prompt, r, objects, decoder != null);
    }

    private static String prompt(String task, String labels) {
        try {
            List<String> l = TaskPrompts.splitLabels(labels);
            return task.equals("detect") ? TaskPrompts.detect(l) : TaskPrompts.segment(l);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(e.getMessage(), e);
        }
    }

    private GenerationResult run(RgbImage picture, String prompt) {
        GenerationOptions options = runtime.options(runtime.defaults);
        return ChatRuntime.await(runtime.submit(new ChatRuntime.Prepared(List.of(picture), prompt, options), null));
    }

    private synchronized MaskDecoder maskDecoder() {
        if (maskDecoder == null && runtime.maskDecoder != null) {
            try {
                maskDecoder = MaskDecoder.load(runtime.maskDecoder);
            } catch (IOException e) {
                throw new InvalidRequestException(runtime.maskDecoder + ": " + e.getMessage(), e);
            }
        }
        return maskDecoder;
    }
}
