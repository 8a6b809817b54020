package org.paligemma4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.paligemma4j.tokenizer.Tokenizer;

/**
 * Tokenizer speed on the real 257,152-piece PaliGemma vocabulary: encode throughput on 10 KB, 100 KB and 1 MB of
 * mixed-script text (the time per byte must stay nearly flat: the merge is O(n log n)), warm load time of the
 * .model file, and String.getBytes(UTF_8) on the same text as a baseline measured in the same run.
 *
 * <p>Run: {@code java -cp paligemma4j-bench/target/paligemma4j-bench.jar:paligemma4j-bench/target/lib/*
 * org.paligemma4j.bench.TokenizerBench} from the repository root (the model is read from
 * {@code -Dpaligemma.fixtures}, default {@code ../shared/fixtures}); it prints MB/s and the scaling per size.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-XX:+UseParallelGC"})
public class TokenizerBench {

    static Path model() {
        return Path.of(System.getProperty("paligemma.fixtures", "../shared/fixtures"), "tokenizer", "real",
                "paligemma_tokenizer.reconstructed.model");
    }

    @State(Scope.Benchmark)
    public static class Loaded {
        Tokenizer tokenizer;

        @Setup
        public void load() throws IOException {
            tokenizer = Tokenizer.load(model());
        }
    }

    @State(Scope.Benchmark)
    public static class Text {
        @Param({"10240", "102400", "1048576"})
        int bytes;

        String text;

        @Setup
        public void generate() {
            text = MixedScriptText.generate(bytes, 20240514L);
        }
    }

    @Benchmark
    public int[] encode(Loaded loaded, Text text) {
        return loaded.tokenizer.encode(text.text);
    }

    @Benchmark
    public byte[] utf8Baseline(Text text) {
        return text.text.getBytes(StandardCharsets.UTF_8);
    }

    /** Allocates ~70 MB per load, so an occasional full GC lands in an iteration: more iterations keep the mean honest. */
    @Benchmark
    @Warmup(iterations = 5, time = 1)
    @Measurement(iterations = 10, time = 1)
    public Tokenizer loadModel() throws IOException {
        return Tokenizer.load(model());
    }

    /** Mixed-script text: English, code, CJK, Cyrillic, Arabic, Devanagari, emoji, digits and whitespace runs. */
    static final class MixedScriptText {
        private static final String[] PIECES = {
            "The quick brown fox jumps over the lazy dog. ", "caption en\n", "detect cat ; dog\n",
            "Der schnelle braune Fuchs springt über den faulen Hund. ", "Le cœur a ses raisons que la raison ignore. ",
            "Съешь же ещё этих мягких французских булок, да выпей чаю. ", "東京は日本の首都です。", "我能吞下玻璃而不伤身体。",
            "다람쥐 헌 쳇바퀴에 타고파 ", "نص حكيم له سر قاطع وذو شأن عظيم ", "ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश ",
            "😀🎉👩‍👩‍👧 ", "<loc0123><loc0456><loc0789><loc1023> ", "for (int i = 0; i < n; i++) { sum += a[i]; }\n",
            "3.14159265358979 2024-05-14 1,000,000 ", "    \t\t\n\n", "https://example.com/path?q=paligemma&lang=en "};

        static String generate(int utf8Bytes, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            StringBuilder b = new StringBuilder();
            int size = 0;
            while (size < utf8Bytes) {
                String p = PIECES[random.nextInt(PIECES.length)];
                int n = p.getBytes(StandardCharsets.UTF_8).length;
                if (size + n > utf8Bytes) break;
                b.append(p);
                size += n;
            }
            while (size < utf8Bytes) { // pad with ASCII to the exact size
                b.append('x');
                size++;
            }
            return b.toString();
        }
    }

    public static void main(String[] args) throws Exception {
        if (!Files.isRegularFile(model())) {
            System.err.println("model not found: " + model().toAbsolutePath() + " (set -Dpaligemma.fixtures)");
            System.exit(3);
        }
        OptionsBuilder options = new OptionsBuilder();
        options.include(TokenizerBench.class.getName() + "\\.");
        options.jvmArgsAppend("-Dpaligemma.fixtures=" + System.getProperty("paligemma.fixtures", "../shared/fixtures"));
        if (args.length > 0) options.include(args[0]);
        Collection<RunResult> results = new Runner(options.build()).run();

        System.out.printf(Locale.ROOT, "%nmachine: %s, %d cpus; JDK %s (%s)%n", System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), System.getProperty("java.vm.name"));
        TreeMap<Integer, double[]> bySize = new TreeMap<>(); // bytes -> {encode ms, baseline ms}
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            double ms = r.getPrimaryResult().getScore();
            if (name.endsWith("loadModel")) {
                System.out.printf(Locale.ROOT, "load 257,152-piece model (warm): %.1f ms ± %.1f%n", ms, r.getPrimaryResult().getScoreError());
                continue;
            }
            int bytes = Integer.parseInt(r.getParams().getParam("bytes"));
            bySize.computeIfAbsent(bytes, k -> new double[2])[name.endsWith("encode") ? 0 : 1] = ms;
        }
        Double perByteSmallest = null;
        for (var e : bySize.entrySet()) {
            double mb = e.getKey() / 1e6;
            double encodeMs = e.getValue()[0];
            double perByte = encodeMs / e.getKey();
            if (perByteSmallest == null) perByteSmallest = perByte;
            System.out.printf(Locale.ROOT, "encode %8d bytes: %9.3f ms = %6.2f MB/s (UTF-8 baseline %8.1f MB/s); time per byte %.2fx the smallest%n",
                    e.getKey(), encodeMs, mb / (encodeMs / 1e3), mb / (e.getValue()[1] / 1e3), perByte / perByteSmallest);
        }
    }
}
