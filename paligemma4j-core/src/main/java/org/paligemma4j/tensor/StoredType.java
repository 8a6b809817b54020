package org.paligemma4j.tensor;

/** The element types a weight matrix is read in place in: the floating-point types checkpoints store weights as. */
public enum StoredType {
    F32(4), BF16(2), F16(2);

    private final int bytes;

    StoredType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
