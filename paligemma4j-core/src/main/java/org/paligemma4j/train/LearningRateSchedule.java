package org.paligemma4j.train;

/**
 * The learning rate of each optimizer step, as the Hugging Face schedulers define it (step k counts
 * from 0; a linear warm-up from 0 over the first {@code warmupSteps} steps, then the schedule's shape
 * over the remaining ones): {@code get_constant_schedule_with_warmup}, {@code get_linear_schedule_with_warmup},
 * {@code get_cosine_schedule_with_warmup}.
 */
public record LearningRateSchedule(Shape shape, double peak, int warmupSteps, int totalSteps) {
    public enum Shape { CONSTANT, LINEAR, COSINE }

    public LearningRateSchedule {
        if (!(peak > 0) || Double.isInfinite(peak)) throw new IllegalArgumentException("learning rate must be positive, got " + peak);
        if (warmupSteps < 0) throw new IllegalArgumentException("warm-up steps must be ≥ 0, got " + warmupSteps);
        if (totalSteps < 1) throw new IllegalArgumentException("steps must be at least 1, got " + totalSteps);
    }

    /** The learning rate of step k (0-based). */
    public double at(int k) {
        if (k < warmupSteps) return peak * k / Math.max(1, warmupSteps);
        double progress = (double) (k - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return switch (shape) {
            case CONSTANT -> peak;
            case LINEAR -> peak * Math.max(0, (double) (totalSteps - k) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
        };
    }
}
