package org.paligemma4j.tasks;

import java.util.List;
import java.util.Objects;
import org.paligemma4j.PaliGemma;

/**
 * The objects of a segment output with their masks. Without a {@link MaskDecoder} (big_vision's
 * {@code vae-oid.npz}, which users supply) the objects keep their boxes but carry no mask, and
 * {@link #masksDecoded()} says so.
 *
 * @param masksDecoded whether a mask decoder was available; false means masks need the VQ-VAE file
 */
public record SegmentResult(String prompt, org.paligemma4j.generate.GenerationResult output, List<Segment> objects, boolean masksDecoded)
        implements TaskResult {

    public SegmentResult {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(output, "output");
        objects = List.copyOf(objects);
    }

    /** The detections alone, in output order. */
    public List<Detection> detections() {
        return objects.stream().map(Segment::detection).toList();
    }

    /** True when the model wrote {@code <seg>} tokens that stayed undecoded because no mask decoder was given. */
    public boolean masksNeedDecoder() {
        return !masksDecoded && objects.stream().anyMatch(s -> s.detection().validSegment());
    }
}
