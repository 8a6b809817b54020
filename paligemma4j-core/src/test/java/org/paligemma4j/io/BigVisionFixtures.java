package org.paligemma4j.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.paligemma4j.testing.Fixtures;

/** The big_vision twins of the golden models (fixtures/bigvision_npz), for parity tests. */
public final class BigVisionFixtures {
    private BigVisionFixtures() {}

    /** The npz with the same weights as the fixture model directory {@code model}. */
    public static Path npz(String model) {
        String stem = model.endsWith("-bf16") ? model.substring(0, model.length() - 5) + ".bf16" : model;
        return Fixtures.path("bigvision_npz", stem + ".npz");
    }

    /** The HF-only embedding rows (&lt;image&gt; + padding) that the HF converter sampled for {@code model}. */
    public static Path extraRows(String model) {
        String npz = npz(model).getFileName().toString();
        return Fixtures.path("bigvision_npz", npz.substring(0, npz.length() - 4) + ".hf_extra_embedding_rows.npy");
    }

    /**
     * The npz converted, with the fixture's extra embedding rows appended (in the embedding's dtype), so the
     * vocabulary is the HF checkpoint's and every golden (argmax, losses over all columns) applies unchanged.
     */
    public static Checkpoint withHfExtraRows(String model) {
        Checkpoint c = BigVisionCheckpoint.open(npz(model)).checkpoint();
        try {
            float[] extra = NpyArray.read(extraRows(model)).toFloatArray();
            String name = WeightNames.text("embed_tokens.weight");
            SafeTensor e = c.tensor(name);
            long rows = e.dim(0), cols = e.dim(1), extraRows = extra.length / cols;
            int size = e.dtype().byteSize();
            MemorySegment all = c.arena().allocate((rows + extraRows) * cols * size, 64);
            MemorySegment.copy(e.data(), 0, all, 0, e.data().byteSize());
            for (int i = 0; i < extra.length; i++) {
                long at = rows * cols * size + (long) i * size;
                if (e.dtype() == DType.F32) {
                    all.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at, extra[i]);
                } else {
                    int bits = Float.floatToRawIntBits(extra[i]);
                    if ((bits & 0xFFFF) != 0) throw new IllegalStateException("extra row value " + extra[i] + " is not a bfloat16");
                    all.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at, (short) (bits >>> 16));
                }
            }
            Map<String, SafeTensor> tensors = new LinkedHashMap<>(c.tensors());
            tensors.put(name, new SafeTensor(name, e.dtype(), new long[] {rows + extraRows, cols}, all, e.file()));
            return Checkpoint.of(c.directory(), c.arena(), tensors);
        } catch (IOException ex) {
            c.close();
            throw new UncheckedIOException(ex);
        }
    }
}
