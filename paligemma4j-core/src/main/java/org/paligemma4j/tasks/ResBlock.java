package org.paligemma4j.tasks;

/**
 * The VQ-VAE residual block: {@code x + conv1x1(relu(conv3x3(relu(conv3x3(x)))))}, 3x3 convolutions zero-padded
 * by one; no activation after the sum.
 */
record ResBlock(ConvLayer first, ConvLayer second, ConvLayer projection) {

    FeatureMap apply(FeatureMap x) {
        FeatureMap h = first.conv(x, 1, 1).relu();
        h = second.conv(h, 1, 1).relu();
        return projection.conv(h, 1, 0).plus(x);
    }
}
