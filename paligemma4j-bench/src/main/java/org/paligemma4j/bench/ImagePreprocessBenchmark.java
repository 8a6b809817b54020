package org.paligemma4j.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.ImagePreprocessor;
import org.paligemma4j.image.ResampleFilter;
import org.paligemma4j.image.RgbImage;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A 6000x4000 photo-sized JPEG (4:2:0, quality 90, written here) to SigLIP's 224x224 pixel_values:
 * the whole path, then its parts. {@code jdkImageIoRead} is the baseline measured in the same run:
 * the JDK's own {@code ImageIO.read} of the same file to a BufferedImage.
 *
 * <p>Run: {@code java -cp paligemma4j-bench/target/paligemma4j-bench.jar:paligemma4j-bench/target/lib/*
 * org.openjdk.jmh.Main ImagePreprocess}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xmx4g"})
public class ImagePreprocessBenchmark {

    static final int WIDTH = 6000, HEIGHT = 4000, SIZE = 224;

    private Path jpeg;
    private RgbImage decoded;
    private RgbImage resized;
    private final ImagePreprocessor preprocessor = new ImagePreprocessor(SIZE, ResampleFilter.BICUBIC, 1 / 255.0,
            new double[] {0.5, 0.5, 0.5}, new double[] {0.5, 0.5, 0.5});

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        jpeg = Files.createTempFile("paligemma4j-bench-", ".jpg");
        writeSyntheticPhoto(jpeg);
        decoded = ImageLoader.load(jpeg);
        resized = preprocessor.resize(decoded);
        System.out.printf("%n# machine: %s, %d cpus; JDK %s (%s); JPEG %dx%d, %,d bytes%n",
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), System.getProperty("java.vm.name"), WIDTH, HEIGHT, Files.size(jpeg));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        Files.deleteIfExists(jpeg);
    }

    /** File to pixel_values: decode, resize, rescale and normalise. */
    @Benchmark
    public float[] jpegToPixelValues() throws IOException {
        return preprocessor.pixelValues(ImageLoader.load(jpeg));
    }

    @Benchmark
    public RgbImage decodeOnly() throws IOException {
        return ImageLoader.load(jpeg);
    }

    @Benchmark
    public RgbImage resizeOnly() {
        return preprocessor.resize(decoded);
    }

    @Benchmark
    public float[] normalizeOnly() {
        return preprocessor.normalize(resized);
    }

    /** Baseline: the JDK's own full decode of the same file. */
    @Benchmark
    public BufferedImage jdkImageIoRead() throws IOException {
        return ImageIO.read(jpeg.toFile());
    }

    /** Smooth gradients, edges and noise, so the entropy coder has photo-like work. */
    static void writeSyntheticPhoto(Path file) throws IOException {
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_3BYTE_BGR);
        byte[] d = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        Random r = new Random(1);
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                int i = (y * WIDTH + x) * 3;
                d[i] = (byte) (128 + 100 * Math.sin(x / 37.0));
                d[i + 1] = (byte) (128 + 100 * Math.cos(y / 23.0));
                d[i + 2] = (byte) ((x ^ y) + r.nextInt(16));
            }
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.9f);
        try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(img, null, null), param);
        } finally {
            writer.dispose();
        }
    }
}
