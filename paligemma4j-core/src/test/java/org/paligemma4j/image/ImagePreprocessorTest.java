package org.paligemma4j.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** preprocessor_config.json parsing with HF defaults, and the layout/arithmetic of pixel_values. */
class ImagePreprocessorTest {

    @TempDir
    Path dir;

    ImagePreprocessor parse(String json) throws IOException {
        Path p = dir.resolve("preprocessor_config.json");
        Files.writeString(p, json);
        return ImagePreprocessor.fromJson(p);
    }

    String error(String json) {
        return assertThrows(IOException.class, () -> parse(json)).getMessage();
    }

    @Test
    void absentFieldsTakeSiglipDefaults() throws IOException {
        ImagePreprocessor p = parse("{}");
        assertEquals(224, p.height());
        assertEquals(224, p.width());
        assertEquals(ResampleFilter.BICUBIC, p.resample());
        assertEquals("ImagePreprocessor[224x224, BICUBIC, rescale " + (1 / 255.0) + ", mean [0.5, 0.5, 0.5], std [0.5, 0.5, 0.5]]",
                p.toString());
        assertEquals(p.toString(), parse("{\"size\": null, \"do_convert_rgb\": null, \"image_mean\": null}").toString());
    }

    @Test
    void sizeMayBeHeightWidthShortestEdgeOrANumber() throws IOException {
        ImagePreprocessor hw = parse("{\"size\": {\"height\": 448, \"width\": 320}, \"resample\": 2}");
        assertEquals(448, hw.height());
        assertEquals(320, hw.width());
        assertEquals(ResampleFilter.BILINEAR, hw.resample());
        assertEquals(896, parse("{\"size\": {\"shortest_edge\": 896}}").width());
        assertEquals(896, parse("{\"size\": {\"shortest_edge\": 896}}").height());
        assertEquals(448, parse("{\"size\": 448}").height());
    }

    @Test
    void badFieldsAreNamedWithTheFile() {
        assertTrue(error("{\"image_mean\": [0.5, \"x\", 0.5]}").endsWith("preprocessor_config.json: field 'image_mean' must hold numbers, got [0.5,\"x\",0.5]"));
        assertTrue(error("{\"image_std\": [0.5, 0.5]}").contains("field 'image_std' must be a list of 3 numbers or one number"));
        assertTrue(error("{\"resample\": 1}").contains("resample 1 (LANCZOS) is not supported; supported: 2 (BILINEAR), 3 (BICUBIC)"));
        assertTrue(error("{\"size\": {\"height\": 0, \"width\": 5}}").contains("field 'size.height' must be a positive integer, got 0"));
        assertTrue(error("{\"size\": \"big\"}").contains("field 'size' must be"));
        assertTrue(error("{\"do_resize\": false}").contains("do_resize=false is not supported"));
        assertTrue(error("{\"do_rescale\": \"yes\"}").contains("field 'do_rescale' must be true, false or null"));
        assertTrue(error("{not json").contains("preprocessor_config.json: not valid JSON"));
        assertTrue(error("[1, 2]").contains("expected a JSON object"));
        assertThrows(NoSuchFileException.class, () -> ImagePreprocessor.fromJson(dir.resolve("missing.json")));
    }

    @Test
    void pixelValuesAreChannelFirstRescaledInDoubleThenNormalizedInFloat() throws IOException {
        ImagePreprocessor p = parse("{\"size\": {\"height\": 1, \"width\": 2}, \"image_mean\": [0.48145466, 0.4578275, 0.40821073],"
                + " \"image_std\": [0.26862954, 0.26130258, 0.27577711]}");
        RgbImage img = new RgbImage(2, 1, new byte[] {0, 1, 2, (byte) 253, (byte) 254, (byte) 255});
        float[] pv = p.normalize(img);
        float[] mean = {0.48145466f, 0.4578275f, 0.40821073f};
        float[] std = {0.26862954f, 0.26130258f, 0.27577711f};
        int[][] v = {{0, 253}, {1, 254}, {2, 255}};
        float[] expected = new float[6];
        for (int c = 0; c < 3; c++) {
            for (int x = 0; x < 2; x++) {
                expected[c * 2 + x] = ((float) (v[c][x] * (1 / 255.0)) - mean[c]) / std[c];
            }
        }
        assertArrayEquals(expected, pv, 0f);
        assertArrayEquals(pv, p.pixelValues(img), 0f);
    }

    @Test
    void rescaleAndNormalizeCanBeSwitchedOff() throws IOException {
        RgbImage img = new RgbImage(1, 1, new byte[] {10, 20, (byte) 200});
        assertArrayEquals(new float[] {10, 20, 200},
                parse("{\"size\": 1, \"do_rescale\": false, \"do_normalize\": false}").normalize(img), 0f);
        assertArrayEquals(new float[] {(float) (10 / 255.0), (float) (20 / 255.0), (float) (200 / 255.0)},
                parse("{\"size\": 1, \"do_normalize\": false}").normalize(img), 0f);
        assertArrayEquals(new float[] {(10 - 0.5f) / 0.5f, (20 - 0.5f) / 0.5f, (200 - 0.5f) / 0.5f},
                parse("{\"size\": 1, \"do_rescale\": false}").normalize(img), 0f);
    }

    @Test
    void normalizeRefusesAnImageOfTheWrongSize() {
        ImagePreprocessor p = new ImagePreprocessor(4, ResampleFilter.BICUBIC, 1 / 255.0, new double[] {0.5, 0.5, 0.5}, new double[] {0.5, 0.5, 0.5});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.normalize(new RgbImage(3, 4, new byte[36])));
        assertEquals("expected a 4x4 image, got 3x4 (call resize first)", e.getMessage());
        assertEquals(48, p.pixelValues(new RgbImage(3, 4, new byte[36])).length);
    }
}
