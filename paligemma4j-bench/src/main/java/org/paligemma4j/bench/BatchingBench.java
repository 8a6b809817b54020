package org.paligemma4j.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.engine.Engine;
import org.paligemma4j.engine.EngineOptions;
import org.paligemma4j.engine.Generation;
import org.paligemma4j.engine.GenerationRequest;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tensor.Parallel;
import org.paligemma4j.tensor.WeightFormat;

/**
 * What continuous batching buys a server: aggregate decode tokens/s and time to first token with 1, 2, 4 and 8
 * requests running at once through {@link Engine} (the engine {@code paligemma serve} uses), each request with its
 * own random image (so nothing comes from the feature cache) and greedy decoding of a fixed number of tokens.
 *
 * <p>Aggregate decode rate = the tokens chosen while all requests of a round decode together (after the last one's
 * prefill, before the first one ends) / that time; time to first token is from submission (queueing for a batch
 * place, image encoding and prefill included; requests are admitted one per step). One warm-up round runs first.
 *
 * <p>Run from the repository root after {@code mvn -q package -DskipTests}:
 * {@code java --add-modules jdk.incubator.vector -Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0
 * -cp 'paligemma4j-bench/target/paligemma4j-bench.jar:paligemma4j-bench/target/lib/*'
 * org.paligemma4j.bench.BatchingBench MODEL_DIR [none|q8|q4] [NEW_TOKENS] [THREADS]}
 */
public final class BatchingBench {
    private BatchingBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: BatchingBench MODEL_DIR [none|q8|q4] [NEW_TOKENS (default 32)] [THREADS (default all)]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        WeightFormat format = WeightFormat.parse(args.length > 1 ? args[1] : "none");
        int newTokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        if (args.length > 3) Parallel.setThreads(Integer.parseInt(args[3]));
        int[] concurrencies = {1, 2, 4, 8};
        SplittableRandom random = new SplittableRandom(42);
        long t0 = System.nanoTime();
        try (PaliGemma model = PaliGemma.open(dir, format);
             Engine engine = Engine.start(model, EngineOptions.defaults().withMaxBatch(8).withMaxQueue(64))) {
            System.out.printf(Locale.ROOT, "%s (%s), %d new tokens per request, %d threads, %d-bit vectors, JDK %s; loaded in %.1f s%n",
                    dir.getFileName(), format.cliName(), newTokens, Parallel.threads(),
                    jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize(), Runtime.version(), (System.nanoTime() - t0) / 1e9);
            round(engine, model, 2, newTokens, random); // warm-up
            System.out.println("| concurrent requests | aggregate decode tok/s | × single | mean time to first token | max time to first token |");
            System.out.println("| --- | --- | --- | --- | --- |");
            double single = 0;
            for (int c : concurrencies) {
                double[] r = round(engine, model, c, newTokens, random);
                if (c == 1) single = r[0];
                System.out.printf(Locale.ROOT, "| %d | %.2f | %.2f | %.2f s | %.2f s |%n", c, r[0], r[0] / single, r[1], r[2]);
            }
        }
    }

    /**
     * Runs {@code c} requests at once; returns {aggregate decode tok/s, mean TTFT s, max TTFT s}. The decode rate is
     * measured while all {@code c} requests are decoding together: from the moment the last of them has its first
     * token (every prefill done) to the moment the first of them ends, counting every token chosen in between. (The
     * engine admits one request per step, so before that moment decode steps alternate with the others' prefills.)
     */
    static double[] round(Engine engine, PaliGemma model, int c, int newTokens, SplittableRandom random) throws InterruptedException {
        int size = model.model().config().vision().imageSize();
        GenerationOptions options = GenerationOptions.defaults().withMaxNewTokens(newTokens);
        List<Generation> running = new ArrayList<>();
        List<List<Long>> tokenTimes = new ArrayList<>();
        for (int i = 0; i < c; i++) {
            byte[] rgb = new byte[size * size * 3];
            random.nextBytes(rgb);
            List<Long> times = java.util.Collections.synchronizedList(new ArrayList<>());
            tokenTimes.add(times);
            running.add(engine.submit(GenerationRequest.of(new RgbImage(size, size, rgb), "caption en", options),
                    (id, text) -> times.add(System.nanoTime())));
        }
        double ttftSum = 0, ttftMax = 0;
        for (Generation g : running) {
            GenerationResult r = g.await();
            ttftSum += r.timings().firstTokenSeconds();
            ttftMax = Math.max(ttftMax, r.timings().firstTokenSeconds());
        }
        long allDecoding = 0, firstEnd = Long.MAX_VALUE;
        for (List<Long> times : tokenTimes) {
            allDecoding = Math.max(allDecoding, times.getFirst());
            firstEnd = Math.min(firstEnd, times.getLast());
        }
        long tokens = 0;
        for (List<Long> times : tokenTimes) for (long t : times) if (t > allDecoding && t <= firstEnd) tokens++;
        double window = (firstEnd - allDecoding) / 1e9;
        return new double[] {window > 0 ? tokens / window : Double.NaN, ttftSum / c, ttftMax};
    }
}
