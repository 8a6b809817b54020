package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.paligemma4j.io.Checkpoint;
import org.paligemma4j.tensor.FloatMatrix;
import org.paligemma4j.tensor.WeightFormat;
import org.paligemma4j.testing.Fixtures;

/** The heap a model's weights will take is known before loading, and a load that cannot fit says so. */
class HeapFootprintTest {

    @ParameterizedTest(name = "{0} as {1}")
    @CsvSource({"paligemma-tiny, Q8", "paligemma-tiny, Q4", "paligemma2-tiny-bf16, Q8", "paligemma2-tiny-bf16, Q4"})
    void estimateOfQuantizedMatricesMatchesWhatTheModelHolds(String model, WeightFormat format) {
        long quantized, asStored;
        try (Checkpoint c = Checkpoint.open(Fixtures.path(model))) {
            quantized = HeapFootprint.ofWeights(c, format);
            asStored = HeapFootprint.ofWeights(c, WeightFormat.AS_STORED);
        }
        long held = 0;
        try (PaliGemmaModel m = PaliGemmaModel.open(Fixtures.path(model), format)) {
            for (FloatMatrix w : m.matrices()) held += w.storageBytes();
        }
        // The tiny models' rows are not whole blocks of 32, so some scales cover padding: a few percent.
        assertEquals(held, quantized - asStored, held * 0.1, "estimated " + (quantized - asStored) + " bytes of matrices, held " + held);
    }

    @Test
    void weightsAsStoredTakeOnlyTheirSmallTensors() {
        try (Checkpoint c = Checkpoint.open(Fixtures.path("paligemma2-tiny-bf16"))) {
            long asStored = HeapFootprint.ofWeights(c, WeightFormat.AS_STORED);
            assertTrue(asStored > 0 && asStored < HeapFootprint.ofWeights(c, WeightFormat.Q4), "as stored: " + asStored);
        }
    }

    @Test
    void aLoadThatCannotFitNamesTheHeapItNeedsAndTheWaysOut() {
        long gb = 1L << 30;
        var e = assertThrows(IllegalStateException.class,
                () -> HeapFootprint.check(11 * gb, gb / 2, 6 * gb, "opening /models/paligemma2-10b-pt-224 as q8"));
        String message = e.getMessage();
        assertTrue(message.startsWith("opening /models/paligemma2-10b-pt-224 as q8 keeps 11.8 GB of weights on the Java heap"), message);
        assertTrue(message.contains("maximum heap is 6.4 GB") && message.contains("PALIGEMMA_JAVA_OPTS=-Xmx13g")
                && message.contains("q4") && message.contains("as stored"), message);
        assertDoesNotThrow(() -> HeapFootprint.check(11 * gb, gb / 2, 13 * gb, "fits"));
        assertDoesNotThrow(() -> HeapFootprint.check(11 * gb, gb / 2, Long.MAX_VALUE, "no limit"));
    }
}
