package org.paligemma4j.train;

import java.util.ArrayList;
import java.util.List;
import org.paligemma4j.model.Param;

/**
 * AdamW with decoupled weight decay, exactly as {@code torch.optim.AdamW} (single-tensor path,
 * amsgrad off) computes it, in float32 per element. At step t (from 1):
 *
 * <pre>
 *   p ← p·(1 − lr·wd)                                   decoupled decay, applied first
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)   eps added after the bias-corrected root
 * </pre>
 */
public final class AdamW {
    private final double beta1, beta2, eps, weightDecay;
    private final List<Param> params;
    private final List<float[]> expAvg = new ArrayList<>(), expAvgSq = new ArrayList<>();
    private int step;

    public AdamW(List<Param> params, double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps >= 0)) throw new IllegalArgumentException("eps must be ≥ 0, got " + eps);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be ≥ 0, got " + weightDecay);
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Param p : this.params) {
            if (!p.trainable()) throw new IllegalArgumentException(p.name() + " is frozen");
            expAvg.add(new float[p.value().length]);
            expAvgSq.add(new float[p.value().length]);
        }
    }

    /** Steps taken so far. */
    public int steps() {
        return step;
    }

    /** One update of every parameter from its gradient, at learning rate {@code lr}. */
    public void step(double lr) {
        step++;
        // torch multiplies float32 tensors by Python floats rounded to float32; so do we.
        float decay = (float) (1 - lr * weightDecay);
        float b1 = (float) beta1, oneMinusB1 = (float) (1 - beta1), b2 = (float) beta2, oneMinusB2 = (float) (1 - beta2);
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        float stepSize = (float) (lr / biasCorrection1);
        float rootCorrection = (float) biasCorrection2Sqrt, epsilon = (float) eps;
        for (int k = 0; k < params.size(); k++) {
            float[] p = params.get(k).value(), g = params.get(k).grad(), m = expAvg.get(k), v = expAvgSq.get(k);
            for (int i = 0; i < p.length; i++) {
                p[i] *= decay;
                m[i] = m[i] * b1 + g[i] * oneMinusB1;
                v[i] = v[i] * b2 + g[i] * g[i] * oneMinusB2;
                float denom = (float) Math.sqrt(v[i]) / rootCorrection + epsilon;
                p[i] -= stepSize * (m[i] / denom);
            }
        }
    }

    /** The first-moment estimate ({@code exp_avg}) of parameter k, in the order given to the constructor. */
    public float[] expAvg(int k) {
        return expAvg.get(k);
    }

    /** The second-moment estimate ({@code exp_avg_sq}) of parameter k. */
    public float[] expAvgSq(int k) {
        return expAvgSq.get(k);
    }

    public List<Param> parameters() {
        return params;
    }
}
