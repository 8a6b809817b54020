package org.paligemma4j.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Image features already computed, keyed by the image's pixel values after preprocessing (SHA-256 of their
 * float32 bits), so asking several questions about one image runs the vision encoder once. Least recently
 * used entries leave first once the entries' bytes pass the capacity. One cache belongs to one model, so the
 * key needs no model identity. Thread-safe.
 *
 * <p>Only the image <em>features</em> can be reused across prompts, not the prefix's KV cache: in PaliGemma
 * the image tokens are part of the fully visible prefix and attend to the text prompt that follows them, so
 * their keys and values in every decoder layer after the first depend on the prompt.
 */
public final class ImageFeatureCache {
    private final LinkedHashMap<String, PaliGemmaModel.ImageEmbedding> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long capacityBytes;
    private long bytes;
    private long hits, misses;

    public ImageFeatureCache(long capacityBytes) {
        setCapacityBytes(capacityBytes);
    }

    /** The key of a preprocessed image: a digest of its pixel values. */
    public static String key(float[] pixelValues) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer buffer = ByteBuffer.allocate(4096 * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < pixelValues.length; i += 4096) {
                buffer.clear();
                int n = Math.min(4096, pixelValues.length - i);
                buffer.asFloatBuffer().put(pixelValues, i, n);
                sha.update(buffer.array(), 0, n * 4);
            }
            sha.update(ByteBuffer.allocate(4).putInt(pixelValues.length).array());
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** The cached features for {@code key}, or null. */
    public synchronized PaliGemmaModel.ImageEmbedding get(String key) {
        PaliGemmaModel.ImageEmbedding e = entries.get(key);
        if (e == null) misses++;
        else hits++;
        return e;
    }

    public synchronized void put(String key, PaliGemmaModel.ImageEmbedding embedding) {
        long size = sizeOf(embedding);
        if (size > capacityBytes) return;
        PaliGemmaModel.ImageEmbedding old = entries.put(key, embedding);
        if (old != null) bytes -= sizeOf(old);
        bytes += size;
        evict();
    }

    /** Sets the bound (0 disables the cache) and evicts down to it. */
    public synchronized void setCapacityBytes(long capacityBytes) {
        if (capacityBytes < 0) throw new IllegalArgumentException("cache capacity must not be negative, got " + capacityBytes);
        this.capacityBytes = capacityBytes;
        evict();
    }

    public synchronized long bytes() {
        return bytes;
    }

    public synchronized int size() {
        return entries.size();
    }

    public synchronized long hits() {
        return hits;
    }

    public synchronized long misses() {
        return misses;
    }

    public synchronized void clear() {
        entries.clear();
        bytes = 0;
    }

    private void evict() {
        Iterator<Map.Entry<String, PaliGemmaModel.ImageEmbedding>> it = entries.entrySet().iterator();
        while (bytes > capacityBytes && it.hasNext()) {
            bytes -= sizeOf(it.next().getValue());
            it.remove();
        }
    }

    private static long sizeOf(PaliGemmaModel.ImageEmbedding e) {
        long floats = (e.visionHiddenState() == null ? 0 : e.visionHiddenState().length)
                + (e.projected() == null ? 0 : e.projected().length) + e.scaled().length;
        return floats * 4 + 64;
    }
}
