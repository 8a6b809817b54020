package org.paligemma4j.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.paligemma4j.io.NpyArray;

class MaskEncoderTest {

    /** Tighter than README §6's 1e-4: float32 reference vs this float64 pipeline measures <= 2.7e-6. */
    private static final double ENCODER_OUT_TOLERANCE = 1e-5;

    private static MaskEncoder encoder;

    @BeforeAll
    static void load() throws IOException {
        encoder = MaskEncoder.load(SegmentationFixtures.vaeNpz());
    }

    static List<String> encodeCases() {
        return SegmentationFixtures.ids("encode");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("encodeCases")
    void latentMatchesReference(String id) throws IOException {
        float[] mask = SegmentationFixtures.npy("encode", id, "mask_in.npy").toFloatArray();
        NpyArray want = SegmentationFixtures.npy("encode", id, "encoder_out.npy");
        FeatureMap got = encoder.encoderOutput(mask);
        assertArrayEquals(want.shape(), new long[] {got.height(), got.width(), got.channels()});
        double max = MaskDecoderTest.maxAbsDiff(got.toFloats(), want.toFloatArray());
        assertTrue(max <= ENCODER_OUT_TOLERANCE, id + ": max |diff| " + max);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("encodeCases")
    void tokensMatchReferenceExactly(String id) throws IOException {
        float[] mask = SegmentationFixtures.npy("encode", id, "mask_in.npy").toFloatArray();
        int[] want = SegmentationFixtures.npy("encode", id, "indices.npy").toIntArray();
        assertArrayEquals(want, encoder.encode(mask), id);
        assertArrayEquals(SegmentationFixtures.ints(SegmentationFixtures.caseOf("encode", id).get("indices")), want);
    }

    @Test
    void wrongSizedMaskIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> encoder.encode(new float[100]));
        assertTrue(e.getMessage().contains("100"), e.getMessage());
    }
}
