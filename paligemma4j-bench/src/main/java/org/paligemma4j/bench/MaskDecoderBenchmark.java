package org.paligemma4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.DetectionParser;
import org.paligemma4j.tasks.MaskDecoder;
import org.paligemma4j.tasks.MaskPaster;

/**
 * The segmentation post-processing per object: VQ-VAE mask decode (16 tokens → 64x64, ~40 M multiply-adds
 * in float64), and decode + Pillow-exact paste into a 640x480 image. The parse of the output string is the
 * baseline: it shows how small the text work is next to the decoder.
 *
 * <p>Weights: {@code -p vae=/path/to/vae-oid.npz}, or, by default, random weights in the real layout
 * written to a temporary file (timing does not depend on the values).
 * Run after {@code mvn package}: {@code java -cp 'paligemma4j-bench/target/paligemma4j-bench.jar:paligemma4j-bench/target/lib/*'
 * org.openjdk.jmh.Main MaskDecoderBenchmark}. For the scalar-twin baseline add
 * {@code -jvmArgsAppend "--add-modules jdk.incubator.vector -Dpaligemma.vae.vector=false"}
 * (2-core AMD EPYC, AVX-512, JDK 25: decode 5.1 ms vector, 23.9 ms scalar).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
public class MaskDecoderBenchmark {

    private static final String OUTPUT = "<loc0100><loc0200><loc0700><loc0900>"
            + "<seg009><seg124><seg084><seg028><seg104><seg103><seg041><seg087>"
            + "<seg012><seg060><seg070><seg003><seg097><seg114><seg090><seg073> cat";

    @Param("")
    public String vae;

    private MaskDecoder decoder;
    private Detection detection;
    private int[] indices;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        System.out.printf("# machine: %s, %d cpus; JDK %s (%s)%n", System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors(), Runtime.version(), System.getProperty("java.vm.name"));
        Path npz = vae.isEmpty() ? randomVae() : Path.of(vae);
        decoder = MaskDecoder.load(npz);
        detection = DetectionParser.detections(OUTPUT, 640, 480).getFirst();
        indices = detection.segIndices();
    }

    @Benchmark
    public Object parseOutputBaseline() {
        return DetectionParser.detections(OUTPUT, 640, 480);
    }

    @Benchmark
    public float[] decode() {
        return decoder.decode(indices);
    }

    @Benchmark
    public BinaryMask decodeAndPaste640x480() {
        return MaskPaster.paste(decoder.decode(indices), detection);
    }

    /** The 25 decoder arrays of vae-oid.npz with uniform random values, saved as numpy.savez would. */
    private static Path randomVae() throws IOException {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("_vq_vae._embedding", new long[] {128, 512});
        conv(shapes, "decoder.0", 128, 512, 1);
        for (String block : new String[] {"decoder.2.net", "decoder.3.net"}) {
            conv(shapes, block + ".0", 128, 128, 3);
            conv(shapes, block + ".2", 128, 128, 3);
            conv(shapes, block + ".4", 128, 128, 1);
        }
        int[][] transposed = {{4, 128, 128}, {6, 128, 64}, {8, 64, 32}, {10, 32, 16}};
        for (int[] t : transposed) {
            shapes.put("decoder." + t[0] + ".weight", new long[] {t[1], t[2], 4, 4});
            shapes.put("decoder." + t[0] + ".bias", new long[] {t[2]});
        }
        conv(shapes, "decoder.12", 1, 16, 1);
        Path file = Files.createTempFile("vae-random", ".npz");
        file.toFile().deleteOnExit();
        SplittableRandom random = new SplittableRandom(7);
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                float[] values = new float[Math.toIntExact(NpyArray.elementCount(e.getValue()))];
                for (int i = 0; i < values.length; i++) values[i] = (float) (random.nextDouble() - 0.5) * 0.2f;
                zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                NpyArray.ofFloats(values, e.getValue()).write(zip);
                zip.closeEntry();
            }
        }
        return file;
    }

    private static void conv(Map<String, long[]> shapes, String name, int out, int in, int k) {
        shapes.put(name + ".weight", new long[] {out, in, k, k});
        shapes.put(name + ".bias", new long[] {out});
    }
}
