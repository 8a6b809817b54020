package org.paligemma4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.paligemma4j.model.LoraAdapter;
import org.paligemma4j.model.Param;

/** Learning-rate schedules as Hugging Face's get_*_schedule_with_warmup, and clipping as torch's clip_grad_norm_, on values worked out by hand. */
class ScheduleAndClippingTest {
    @Test
    void schedulesWarmUpLinearlyThenFollowTheirShape() {
        var cosine = new LearningRateSchedule(LearningRateSchedule.Shape.COSINE, 1.0, 2, 6);
        double[] expected = {0, 0.5, 1, 0.5 * (1 + Math.cos(Math.PI / 4)), 0.5, 0.5 * (1 + Math.cos(3 * Math.PI / 4))};
        for (int k = 0; k < 6; k++) assertEquals(expected[k], cosine.at(k), 1e-15, "cosine step " + k);
        var linear = new LearningRateSchedule(LearningRateSchedule.Shape.LINEAR, 2.0, 2, 6);
        double[] linearExpected = {0, 1, 2, 1.5, 1, 0.5};
        for (int k = 0; k < 6; k++) assertEquals(linearExpected[k], linear.at(k), 1e-15, "linear step " + k);
        var constant = new LearningRateSchedule(LearningRateSchedule.Shape.CONSTANT, 1e-3, 0, 3);
        for (int k = 0; k < 3; k++) assertEquals(1e-3, constant.at(k), 0, "constant step " + k);
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(LearningRateSchedule.Shape.CONSTANT, -1, 0, 3));
    }

    @Test
    void clippingScalesByMaxNormOverNormPlusEpsilonOnlyAboveTheMax() {
        // A 3-4 gradient (norm 5) in one tensor of a fresh adapter-sized parameter.
        var config = org.paligemma4j.io.PaliGemmaConfig.load(org.paligemma4j.testing.Fixtures.path("paligemma-tiny"));
        LoraAdapter adapter = LoraAdapter.create(config, "x", 1, 1, 0, "language_model\\.model\\.layers\\.0\\.self_attn\\.q_proj", 0);
        List<Param> params = adapter.parameters();
        for (Param p : params) java.util.Arrays.fill(p.grad(), 0f);
        params.get(0).grad()[0] = 3;
        params.get(1).grad()[0] = 4;
        assertEquals(5, Trainer.clipGradients(params, 10), 1e-12, "norm reported, nothing clipped below the max");
        assertEquals(3f, params.get(0).grad()[0]);
        assertEquals(5, Trainer.clipGradients(params, 1), 1e-12);
        assertEquals((float) (3 * (1 / (5 + 1e-6))), params.get(0).grad()[0], 1e-7);
        assertEquals((float) (4 * (1 / (5 + 1e-6))), params.get(1).grad()[0], 1e-7);
    }
}
