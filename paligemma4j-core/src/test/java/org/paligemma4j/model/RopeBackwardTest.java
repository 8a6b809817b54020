package org.paligemma4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** RoPE's backward is its transpose: ⟨RoPE(x), y⟩ = ⟨x, backward(y)⟩ for every x, y, and backward inverts the rotation. */
class RopeBackwardTest {
    @Test
    void backwardIsTheTransposedRotation() {
        int headDim = 24, heads = 3;
        Rope rope = new Rope(headDim, 10000);
        Random random = new Random(3);
        for (int position : new int[] {0, 7, 300}) {
            float[] cos = new float[headDim], sin = new float[headDim];
            rope.tables(position, cos, sin);
            float[] x = new float[heads * headDim], y = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
                y[i] = (float) random.nextGaussian();
            }
            float[] rx = x.clone(), bty = y.clone();
            rope.apply(rx, 0, heads, position, cos, sin);
            rope.backward(bty, 0, heads, cos, sin);
            double left = 0, right = 0;
            for (int i = 0; i < x.length; i++) {
                left += (double) rx[i] * y[i];
                right += (double) x[i] * bty[i];
            }
            assertEquals(left, right, 1e-5, "⟨RoPE x, y⟩ = ⟨x, RoPEᵀ y⟩ at position " + position);
            rope.backward(rx, 0, heads, cos, sin); // a rotation's transpose is its inverse
            for (int i = 0; i < x.length; i++) assertEquals(x[i], rx[i], 1e-5, "round trip at " + i);
        }
    }
}
