package org.paligemma4j.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConvLayerTest {

    private static final SplittableRandom RANDOM = new SplittableRandom(42);

    private static float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (RANDOM.nextDouble() - 0.5);
        return v;
    }

    private static FeatureMap input(int h, int w, int c) {
        double[] d = new double[h * w * c];
        // Some exact zeros, as after a ReLU, to exercise the skip.
        for (int i = 0; i < d.length; i++) d[i] = Math.max(0, RANDOM.nextDouble() - 0.3);
        return new FeatureMap(h, w, c, d);
    }

    @Test
    void vectorPathIsBitIdenticalToScalarTwinIncludingChannelTails() {
        // 20 and 7 output channels leave tails after full vector blocks; 16 and 128 are the decoder's sizes.
        for (int out : new int[] {1, 7, 16, 20, 128}) {
            ConvLayer conv = ConvLayer.fromConv2d(random(out * 24 * 9), random(out), out, 24, 3);
            FeatureMap x = input(5, 6, 24);
            assertArrayEquals(conv.scalarTwin().conv(x, 1, 1).data(), conv.conv(x, 1, 1).data(), "conv out " + out);
            ConvLayer up = ConvLayer.fromConvTranspose2d(random(24 * out * 16), random(out), 24, out, 4);
            assertArrayEquals(up.scalarTwin().transposedConvStride2(x).data(), up.transposedConvStride2(x).data(),
                    "transposed out " + out);
        }
    }

    @Test
    void transposedConvMatchesItsDefiningSum() {
        // out[o][Y][X] = b[o] + sum over in[i][y][x] W[i][o][a][b] with Y = 2y - 1 + a, X = 2x - 1 + b.
        int in = 3;
        int out = 2;
        float[] w = random(in * out * 16);
        float[] b = random(out);
        FeatureMap x = input(3, 4, in);
        FeatureMap got = ConvLayer.fromConvTranspose2d(w, b, in, out, 4).transposedConvStride2(x);
        assertEquals(6, got.height());
        assertEquals(8, got.width());
        for (int oy = 0; oy < 6; oy++) {
            for (int ox = 0; ox < 8; ox++) {
                for (int o = 0; o < out; o++) {
                    double want = b[o];
                    for (int y = 0; y < 3; y++)
                        for (int xx = 0; xx < 4; xx++)
                            for (int a = 0; a < 4; a++)
                                for (int bb = 0; bb < 4; bb++)
                                    if (2 * y - 1 + a == oy && 2 * xx - 1 + bb == ox)
                                        for (int i = 0; i < in; i++)
                                            want += x.data()[(y * 4 + xx) * in + i] * w[((i * out + o) * 4 + a) * 4 + bb];
                    assertEquals(want, got.data()[(oy * 8 + ox) * out + o], 1e-12);
                }
            }
        }
    }
}
