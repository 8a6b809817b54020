package org.paligemma4j.model;

/**
 * Rotary position embedding in the "rotate half" layout Gemma uses: dimension i is paired with
 * i + headDim/2. Frequencies are computed as the reference computes them (float32 inverse frequencies,
 * float32 angle), so the rotation matches it to the last bit of its inputs.
 */
final class Rope {
    private final int headDim;
    private final float[] inverseFrequency;

    Rope(int headDim, double theta) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("RoPE needs an even head_dim, got " + headDim);
        this.headDim = headDim;
        int half = headDim / 2;
        inverseFrequency = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            inverseFrequency[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
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
        float p = position + 1; // 1-based, as the reference
        for (int i = 0; i < half; i++) {
            float angle = p * inverseFrequency[i];
            cos[i] = cos[i + half] = (float) Math.cos(angle);
            sin[i] = sin[i + half] = (float) Math.sin(angle);
        }
    }
}
