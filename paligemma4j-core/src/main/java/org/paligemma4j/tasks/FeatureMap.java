package org.paligemma4j.tasks;

/** An activation map of the mask VQ-VAE, channels last: {@code data[(y * width + x) * channels + c]}. */
record FeatureMap(int height, int width, int channels, double[] data) {

    FeatureMap {
        if (data.length != height * width * channels) {
            throw new IllegalArgumentException("feature map " + height + "x" + width + "x" + channels
                    + " needs " + height * width * channels + " values, got " + data.length);
        }
    }

    static FeatureMap zeros(int height, int width, int channels) {
        return new FeatureMap(height, width, channels, new double[height * width * channels]);
    }

    FeatureMap relu() {
        for (int i = 0; i < data.length; i++) {
            if (data[i] < 0) data[i] = 0;
        }
        return this;
    }

    FeatureMap plus(FeatureMap other) {
        double[] out = data.clone();
        for (int i = 0; i < out.length; i++) out[i] += other.data[i];
        return new FeatureMap(height, width, channels, out);
    }

    float[] toFloats() {
        float[] out = new float[data.length];
        for (int i = 0; i < out.length; i++) out[i] = (float) data[i];
        return out;
    }
}
