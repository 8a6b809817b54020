package org.paligemma4j.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** Copies saved quantized data back into a matrix's arrays, checking the size first. */
final class Stored {
    private Stored() {}

    static void copyInto(String name, MemorySegment source, MemorySegment target) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("saved quantized weights are little-endian; this platform is not");
        }
        if (source.byteSize() != target.byteSize()) {
            throw new IllegalArgumentException(name + ": saved quantized data has " + source.byteSize() + " bytes, expected "
                    + target.byteSize());
        }
        target.copyFrom(source);
        if (source.isMapped()) source.unload();
    }
}
