package org.paligemma4j.generate;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.paligemma4j.tensor.Ops;

/** Picks the next token from a step's logits. */
public interface Sampler {
    int next(float[] logits);

    static Sampler greedy() {
        return logits -> Ops.argmax(logits, 0, logits.length);
    }

    static Sampler of(GenerationOptions o) {
        return o.doSample() ? new Filtered(o.temperature(), o.topK(), o.topP(), o.seed()) : greedy();
    }

    /**
     * Temperature, then top-k (keep the k largest logits, and any tied with the k-th), then top-p (keep the
     * smallest set of most likely tokens whose probability reaches p), then one draw.
     */
    final class Filtered implements Sampler {
        private final double temperature;
        private final int topK;
        private final double topP;
        private final SplittableRandom random;

        Filtered(double temperature, int topK, double topP, long seed) {
            this.temperature = temperature;
            this.topK = topK;
            this.topP = topP;
            this.random = new SplittableRandom(seed);
        }

        @Override
        public int next(float[] logits) {
            int n = logits.length;
            float[] scaled = new float[n];
            for (int i = 0; i < n; i++) scaled[i] = (float) (logits[i] / temperature);
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Float.compare(scaled[b], scaled[a]));
            int keep = n;
            if (topK > 0 && topK < n) {
                float kth = scaled[order[topK - 1]];
                keep = topK;
                while (keep < n && scaled[order[keep]] == kth) keep++;
            }
            float max = scaled[order[0]];
            double[] p = new double[keep];
            double total = 0;
            for (int i = 0; i < keep; i++) {
                p[i] = Math.exp(scaled[order[i]] - max);
                total += p[i];
            }
            if (topP < 1) {
                double cumulative = 0;
                int cut = keep;
                for (int i = 0; i < keep; i++) {
                    cumulative += p[i] / total;
                    if (cumulative >= topP) {
                        cut = i + 1;
                        break;
                    }
                }
                keep = cut;
                total = 0;
                for (int i = 0; i < keep; i++) total += p[i];
            }
            double u = random.nextDouble() * total;
            for (int i = 0; i < keep; i++) {
                u -= p[i];
                if (u < 0) return order[i];
            }
            return order[keep - 1];
        }
    }
}
