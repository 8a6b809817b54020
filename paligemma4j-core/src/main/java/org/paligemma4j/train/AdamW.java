package org.paligemma4j.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.paligemma4j.io.CheckpointException;
import org.paligemma4j.io.DType;
import org.paligemma4j.io.SafeTensor;
import org.paligemma4j.io.SafetensorsFile;
import org.paligemma4j.io.SafetensorsWriter;
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

    /**
     * Writes the step count and every moment estimate, named {@code <parameter>.exp_avg} and
     * {@code <parameter>.exp_avg_sq} (float32), so that a resumed run continues bit for bit.
     */
    public void saveState(Path file) throws IOException {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (int k = 0; k < params.size(); k++) {
            Param p = params.get(k);
            entries.add(new SafetensorsWriter.Entry(p.name() + ".exp_avg", DType.F32, p.shape(), SafetensorsWriter.Content.ofFloats(expAvg.get(k))));
            entries.add(new SafetensorsWriter.Entry(p.name() + ".exp_avg_sq", DType.F32, p.shape(), SafetensorsWriter.Content.ofFloats(expAvgSq.get(k))));
        }
        SafetensorsWriter.write(file, entries, Map.of("step", Integer.toString(step)));
    }

    /** Restores what {@link #saveState} wrote; every parameter's moments must be there with its shape. */
    public void loadState(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String stepText = f.metadata().get("step");
            int restoredStep;
            try {
                restoredStep = Integer.parseInt(stepText);
            } catch (NumberFormatException e) {
                throw new CheckpointException(file + ": no valid \"step\" in the metadata (got " + stepText + ")");
            }
            List<float[]> m = new ArrayList<>(), v = new ArrayList<>();
            for (Param p : params) {
                for (String suffix : new String[] {".exp_avg", ".exp_avg_sq"}) {
                    SafeTensor t = f.tensors().get(p.name() + suffix);
                    if (t == null) throw new CheckpointException(file + ": no tensor '" + p.name() + suffix + "'");
                    if (t.dtype() != DType.F32 || !java.util.Arrays.equals(t.shape(), p.shape())) {
                        throw new CheckpointException(file + ": '" + t.name() + "' is " + t.dtype() + " " + t.shapeString()
                                + ", expected F32 " + java.util.Arrays.toString(p.shape()));
                    }
                    (suffix.equals(".exp_avg") ? m : v).add(t.toFloatArray());
                }
            }
            if (f.tensors().size() != 2 * params.size()) {
                throw new CheckpointException(file + ": holds " + f.tensors().size() + " tensors, expected " + 2 * params.size());
            }
            for (int k = 0; k < params.size(); k++) {
                System.arraycopy(m.get(k), 0, expAvg.get(k), 0, m.get(k).length);
                System.arraycopy(v.get(k), 0, expAvgSq.get(k), 0, v.get(k).length);
            }
            step = restoredStep;
        }
    }
}
