package org.paligemma4j.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.TokenListener;
import org.paligemma4j.image.RgbImage;

/**
 * PaliGemma's tasks with typed results: captions, answers and OCR as text, detections as boxes in the original
 * image's pixels, segmentations as full-resolution masks.
 *
 * <pre>{@code
 * try (PaliGemma pg = PaliGemma.open(Path.of("paligemma2-3b-mix-448"))) {
 *     RgbImage image = ImageLoader.load(Path.of("street.jpg"));
 *     PaliGemmaTasks tasks = PaliGemmaTasks.of(pg).withMaskDecoder(MaskDecoder.load(Path.of("vae-oid.npz")));
 *     for (Detection d : tasks.detect(image, "car", "bicycle").validObjects()) {
 *         System.out.println(d.label() + " " + d.pixelBox());
 *     }
 * }
 * }</pre>
 *
 * Immutable: the {@code withX} methods return modified copies. The wrapped model is not closed here.
 */
public final class PaliGemmaTasks {

    private final PaliGemma model;
    private final GenerationOptions options;
    private final TokenListener listener;
    private final MaskDecoder maskDecoder;

    private PaliGemmaTasks(PaliGemma model, GenerationOptions options, TokenListener listener, MaskDecoder maskDecoder) {
        this.model = Objects.requireNonNull(model, "model");
        this.options = Objects.requireNonNull(options, "options");
        this.listener = listener;
        this.maskDecoder = maskDecoder;
    }

    /** Tasks over {@code model} with {@link GenerationOptions#defaults()}, no listener and no mask decoder. */
    public static PaliGemmaTasks of(PaliGemma model) {
        return new PaliGemmaTasks(model, GenerationOptions.defaults(), null, null);
    }

    /** Generation options for every task (the raw {@link #generate} takes its own). */
    public PaliGemmaTasks withOptions(GenerationOptions options) {
        return new PaliGemmaTasks(model, options, listener, maskDecoder);
    }

    /** Sees every generated token as it is chosen, for streaming; null for none. */
    public PaliGemmaTasks withListener(TokenListener listener) {
        return new PaliGemmaTasks(model, options, listener, maskDecoder);
    }

    /** The mask VQ-VAE that {@link #segment} decodes {@code <seg>} tokens with; null for boxes only. */
    public PaliGemmaTasks withMaskDecoder(MaskDecoder maskDecoder) {
        return new PaliGemmaTasks(model, options, listener, maskDecoder);
    }

    public GenerationOptions options() {
        return options;
    }

    /** The raw model: any prompt, these options. */
    public TextResult generate(RgbImage image, String prompt, GenerationOptions options) {
        Objects.requireNonNull(prompt, "prompt");
        return new TextResult(prompt, model.generate(image, prompt, options, listener));
    }

    /** A caption in {@code language} ({@code caption en}). */
    public TextResult caption(RgbImage image, String language) {
        return generate(image, TaskPrompts.caption(language), options);
    }

    /** An answer to {@code question} in {@code language} ({@code answer en <question>}). */
    public TextResult answer(RgbImage image, String question, String language) {
        return generate(image, TaskPrompts.answer(language, question), options);
    }

    /** The text in the image ({@code ocr}). */
    public TextResult ocr(RgbImage image) {
        return generate(image, TaskPrompts.ocr(), options);
    }

    /** Boxes of the objects named by {@code labels} ({@code detect cat ; dog}), in {@code image}'s pixels. */
    public DetectResult detect(RgbImage image, String... labels) {
        return detect(image, List.of(labels));
    }

    public DetectResult detect(RgbImage image, List<String> labels) {
        TextResult raw = generate(image, TaskPrompts.detect(labels), options);
        return new DetectResult(raw.prompt(), raw.output(),
                DetectionParser.detections(raw.text(), image.width(), image.height()));
    }

    /**
     * Boxes and full-resolution masks of the objects named by {@code labels} ({@code segment cat}). Without a
     * mask decoder the objects keep their boxes and {@link SegmentResult#masksDecoded()} is false.
     */
    public SegmentResult segment(RgbImage image, String... labels) {
        return segment(image, List.of(labels));
    }

    public SegmentResult segment(RgbImage image, List<String> labels) {
        TextResult raw = generate(image, TaskPrompts.segment(labels), options);
        return new SegmentResult(raw.prompt(), raw.output(), segments(raw.text(), image.width(), image.height(), maskDecoder),
                maskDecoder != null);
    }

    /** The objects of a segment output on a {@code width x height} image, with masks when {@code decoder} is given. */
    static List<Segment> segments(String text, int width, int height, MaskDecoder decoder) {
        List<Segment> segments = new ArrayList<>();
        for (Detection d : DetectionParser.detections(text, width, height)) {
            BinaryMask mask = decoder == null || !d.validSegment() ? null : MaskPaster.paste(decoder.decode(d.segIndices()), d);
            segments.add(new Segment(d, mask));
        }
        return segments;
    }
}
