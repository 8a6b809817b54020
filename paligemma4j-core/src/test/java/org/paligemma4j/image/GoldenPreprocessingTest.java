package org.paligemma4j.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.testing.Fixtures;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parity with the reference processor on every case of every fixture model: from the pixels PIL
 * decoded ({@code images/*.rgb.npy}) the resize must be bit-identical and pixel_values within 1e-6;
 * from the image files themselves PNG must be bit-identical too (JPEG is measured in
 * {@link JpegDecodeParityTest}).
 */
class GoldenPreprocessingTest {

    record Case(String model, String name, Path image, Path dir) {}

    static List<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        for (String model : Fixtures.MODELS) {
            JsonNode manifest = new ObjectMapper().readTree(Fixtures.path("golden", model, "manifest.json").toFile());
            for (JsonNode c : manifest.get("cases")) {
                String name = c.get("name").asText();
                out.add(new Case(model, name, Fixtures.path(c.get("image").asText()), Fixtures.path("golden", model, name)));
            }
        }
        assertTrue(out.size() >= 14, "expected every model's cases, found " + out.size());
        return out;
    }

    /** PIL's decoded pixels as an RGB image; a 2-D (mode L) array is replicated into R, G and B. */
    static RgbImage decodedByPil(Path image) throws IOException {
        NpyArray a = NpyArray.read(image.resolveSibling(image.getFileName() + ".rgb.npy"));
        int h = (int) a.shape()[0];
        int w = (int) a.shape()[1];
        byte[] data = a.data();
        if (a.shape().length == 3) {
            return new RgbImage(w, h, data);
        }
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++) {
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = data[i];
        }
        return new RgbImage(w, h, rgb);
    }

    static ImagePreprocessor processor(String model) throws IOException {
        return ImagePreprocessor.fromJson(Fixtures.path(model, "preprocessor_config.json"));
    }

    @TestFactory
    List<DynamicTest> resizedImageIsBitIdenticalToPilFromDecodedPixels() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases()) {
            tests.add(DynamicTest.dynamicTest(c.model + "/" + c.name, () -> {
                NpyArray golden = NpyArray.read(c.dir.resolve("image_resized_uint8.npy"));
                RgbImage resized = processor(c.model).resize(decodedByPil(c.image));
                assertArrayEquals(golden.shape(), new long[] {resized.height(), resized.width(), 3});
                assertArrayEquals(golden.data(), resized.rgb(), "resized pixels differ from PIL");
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> pixelValuesMatchReferenceWithin1e6() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases()) {
            tests.add(DynamicTest.dynamicTest(c.model + "/" + c.name, () -> {
                NpyArray golden = NpyArray.read(c.dir.resolve("pixel_values.npy"));
                ImagePreprocessor p = processor(c.model);
                float[] ours = p.pixelValues(decodedByPil(c.image));
                assertArrayEquals(new long[] {1, 3, p.height(), p.width()}, golden.shape());
                float[] expected = golden.toFloatArray();
                double maxDiff = 0;
                for (int i = 0; i < expected.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(expected[i] - ours[i]));
                }
                assertTrue(maxDiff <= 1e-6, "max |diff| " + maxDiff);
                // The arithmetic mirrors numpy's, so it is in fact exact.
                assertEquals(0.0, maxDiff, "pixel_values are not bit-identical: max |diff| " + maxDiff);
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> pngFilesDecodeAndResizeBitIdenticallyToPil() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases()) {
            if (!c.image.toString().endsWith(".png")) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(c.model + "/" + c.name, () -> {
                RgbImage decoded = ImageLoader.load(c.image);
                assertArrayEquals(decodedByPil(c.image).rgb(), decoded.rgb(), "decoded pixels differ from PIL");
                NpyArray golden = NpyArray.read(c.dir.resolve("image_resized_uint8.npy"));
                assertArrayEquals(golden.data(), processor(c.model).resize(decoded).rgb());
                float[] expected = NpyArray.read(c.dir.resolve("pixel_values.npy")).toFloatArray();
                assertArrayEquals(expected, processor(c.model).pixelValues(decoded), 1e-6f);
            }));
        }
        assertTrue(tests.size() >= 8, "expected PNG cases, found " + tests.size());
        return tests;
    }

    @TestFactory
    List<DynamicTest> fixtureConfigsReadAsSquareBicubicHalfMeanStd() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : Fixtures.MODELS) {
            tests.add(DynamicTest.dynamicTest(model, () -> {
                ImagePreprocessor p = processor(model);
                assertEquals(56, p.height());
                assertEquals(56, p.width());
                assertEquals(ResampleFilter.BICUBIC, p.resample());
                assertEquals("ImagePreprocessor[56x56, BICUBIC, rescale 0.00392156862745098, mean "
                        + Arrays.toString(new double[] {0.5, 0.5, 0.5}) + ", std [0.5, 0.5, 0.5]]", p.toString());
            }));
        }
        return tests;
    }
}
