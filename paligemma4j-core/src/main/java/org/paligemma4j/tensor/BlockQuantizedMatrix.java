package org.paligemma4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Weights quantized in blocks of {@link #BLOCK} consecutive weights of a row, each block with a float32
 * scale; the formats differ only in how a block's integers are packed into {@link #quantized}. Held on
 * the heap, where the JIT can hoist the bounds checks of the hot loops.
 */
public abstract sealed class BlockQuantizedMatrix extends FloatMatrix permits Q8Matrix, Q4Matrix {
    static final int BLOCK = 32;
    /** Quantizing releases the source's rows in runs of this many, as it finishes them. */
    static final int RELEASE_ROWS = 256;

    protected final byte[] quantized;
    protected final float[] scales; // [rows, blocksPerRow]
    protected final int blocksPerRow;

    BlockQuantizedMatrix(String name, int rows, int cols, int bytesPerRow) {
        super(name, rows, cols);
        this.blocksPerRow = (cols + BLOCK - 1) / BLOCK;
        this.quantized = new byte[Math.multiplyExact(rows, bytesPerRow)];
        this.scales = new float[Math.multiplyExact(rows, blocksPerRow)];
    }

    /**
     * Quantizes every row of {@code source} into this matrix, rows split across the threads. Each row is
     * widened into a buffer padded to whole blocks (the padding stays zero) and handed to
     * {@link #quantizeRow}; the source's rows are released in runs of {@link #RELEASE_ROWS} as they are done.
     */
    final void quantizeFrom(FloatMatrix source) {
        Parallel.forRange(rows, 64, (from, to) -> {
            float[] row = new float[blocksPerRow * BLOCK];
            int released = from;
            for (int r = from; r < to; r++) {
                source.readRow(r, row, 0);
                quantizeRow(r, row);
                if (r + 1 - released == RELEASE_ROWS || r == to - 1) {
                    source.release(released, r + 1);
                    released = r + 1;
                }
            }
        });
    }

    /** Stores row r from {@code row} (its {@code cols} weights, then zeros up to a whole block). */
    abstract void quantizeRow(int r, float[] row);

    /** Fills this matrix with data saved from {@link #storedWeights()} and {@link #storedScales()}. */
    final <M extends BlockQuantizedMatrix> M restore(MemorySegment weights, MemorySegment savedScales, Class<M> type) {
        Stored.copyInto(name, weights, MemorySegment.ofArray(quantized));
        Stored.copyInto(name, savedScales, MemorySegment.ofArray(scales));
        return type.cast(this);
    }

    /** The packed integers as stored, {@code [rows, bytes per row]}. */
    public MemorySegment storedWeights() {
        return MemorySegment.ofArray(quantized);
    }

    /** The float32 block scales {@code [rows, ceil(cols / 32)]} (little-endian on this platform). */
    public MemorySegment storedScales() {
        return MemorySegment.ofArray(scales);
    }

    @Override
    public long storageBytes() {
        return quantized.length + 4L * scales.length;
    }
}
