package org.paligemma4j.model;

/**
 * Rotary position embedding in the "rotate half" layout Gemma uses: dimension i is paired with
 * i + headDim/2. Inverse frequencies, angles, cosines and sines are computed in double and the tables
 * rounded to float32 once. (The reference computes the inverse frequencies and the angle
 * {@code position · inverse frequency} in float32, an error that grows with the position: at position 47
 * the angle can be off by 4e-6 rad, which moves its cosine by as much, against 6e-8 for rounding the cosine.)
 */
final class Rope {
    private final int headDim;
    private final double[] inverseFrequency;

    Rope(int headDim, double theta) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("RoPE needs an even head_dim, got " + headDim);
        this.headDim = headDim;
        int half = headDim / 2;
        inverseFrequency = new double[half];
        for (int i = 0; i < half; i++) inverseFrequency[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
    }

    /**
     * Rotates {@code heads} vectors of {@code x[offset…]} for a token at {@code position}. The reference
     * numbers positions from 1 (prefix-LM generation in transformers); RoPE is relative, so only the
     * rounding depends on that choice, and we follow the reference.
     */
    void apply(float[] x, int offset, int heads, int position, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int o = offset + h * headDim;
            for (int i = 0; i < half; i++) {
                float a = x[o + i], b = x[o + i + half];
                x[o + i] = a * cos[i] - b * sin[i];
                x[o + i + half] = b * cos[i + half] + a * sin[i + half];
            }
        }
    }

    /**
     * Backward of {@link #apply}: RoPE rotates each pair (i, i + headDim/2) by an angle, so the gradient
     * goes back through the transposed rotation, by the opposite angle: {@code da = c·da' + s·db'},
     * {@code db = −s·da' + c·db'}. In place over {@code heads} vectors of {@code dx[offset…]}.
     */
    void backward(float[] dx, int offset, int heads, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int o = offset + h * headDim;
            for (int i = 0; i < half; i++) {
                float da = dx[o + i], db = dx[o + i + half];
                dx[o + i] = da * cos[i] + db * sin[i + half];
                dx[o + i + half] = db * cos[i + half] - da * sin[i];
            }
        }
    }

    /** cos/sin tables for one position: {@code [headDim]}, the half-size table repeated twice. */
    void tables(int position, float[] cos, float[] sin) {
        int half = headDim / 2;
        double p = position + 1; // 1-based, as the reference
        for (int i = 0; i < half; i++) {
            double angle = p * inverseFrequency[i];
            cos[i] = cos[i + half] = (float) Math.cos(angle);
            sin[i] = sin[i + half] = (float) Math.sin(angle);
        }
    }
}
