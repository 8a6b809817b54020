package org.paligemma4j.spark;

import java.io.Serializable;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * Progress as Spark accumulators (named, so the Spark UI shows them on each stage): rows seen, tokens generated,
 * rows that failed. Executors add to them as partitions run; the driver reads the totals.
 */
public record ImageMetrics(LongAccumulator images, LongAccumulator tokens, LongAccumulator failures) implements Serializable {

    /** New accumulators named {@code paligemma images}, {@code paligemma tokens} and {@code paligemma failures}. */
    public static ImageMetrics register(SparkContext context) {
        return new ImageMetrics(context.longAccumulator("paligemma images"), context.longAccumulator("paligemma tokens"),
                context.longAccumulator("paligemma failures"));
    }
}
