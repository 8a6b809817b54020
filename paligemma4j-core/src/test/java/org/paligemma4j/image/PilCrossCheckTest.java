package org.paligemma4j.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.paligemma4j.io.NpyArray;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cases made by hand with Debian's python3-pil ({@code src/test/pil/make_pil_cases.py}; versions in
 * the manifest): every supported format and layout decoded as PIL's {@code convert("RGB")} does, and
 * PIL resizes of awkward shapes. Everything decodes and resizes bit-identically except lossy WebP,
 * whose decoder is not libwebp: there the difference is measured and bounded.
 */
class PilCrossCheckTest {

    private static final String DIR = "pil/";

    static JsonNode manifest() throws IOException {
        return new ObjectMapper().readTree(resource("manifest.json"));
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = PilCrossCheckTest.class.getResourceAsStream(DIR + name)) {
            if (in == null) {
                throw new IOException("missing test resource " + DIR + name);
            }
            return in.readAllBytes();
        }
    }

    static NpyArray npy(String name) throws IOException {
        return NpyArray.parse(resource(name), name);
    }

    @TestFactory
    List<DynamicTest> everyFormatDecodesLikePilConvertRgb() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : manifest().get("decode")) {
            String file = c.get("file").asText();
            tests.add(DynamicTest.dynamicTest(file + " (" + c.get("note").asText() + ")", () -> {
                NpyArray expected = npy("decoded_" + file + ".npy");
                RgbImage ours = ImageLoader.decode(resource(file), file, ImageLoader.DEFAULT_MAX_PIXELS);
                assertEquals(c.get("width").asInt(), ours.width(), "width");
                assertEquals(c.get("height").asInt(), ours.height(), "height");
                int[] diff = difference(expected.data(), ours.rgb());
                String summary = String.format("%s: %d of %d pixels differ (%.3f%%), max |diff| %d, mean |diff| %.3f",
                        file, diff[0], ours.width() * ours.height(), 100.0 * diff[0] / (ours.width() * ours.height()),
                        diff[1], diff[2] / (3.0 * ours.width() * ours.height()));
                System.out.println("PIL cross-check " + summary);
                if (file.startsWith("lossy")) {
                    // TwelveMonkeys' VP8 decoder rounds differently from libwebp (measured: see summary).
                    assertTrue(diff[1] <= LOSSY_WEBP_MAX_DIFF && diff[2] <= LOSSY_WEBP_MAX_MEAN_DIFF * 3.0 * ours.width() * ours.height(), summary);
                } else {
                    assertArrayEquals(expected.data(), ours.rgb(), summary);
                }
            }));
        }
        assertTrue(tests.size() >= 40, "expected the full list of formats, found " + tests.size());
        return tests;
    }

    /** Measured on lossy.webp / lossy_alpha.webp (noisy test picture): max 31 and 27, mean 4.69 and 4.70 per channel. */
    static final int LOSSY_WEBP_MAX_DIFF = 32;
    static final double LOSSY_WEBP_MAX_MEAN_DIFF = 5.0;

    @TestFactory
    List<DynamicTest> resizeMatchesPilForAwkwardShapes() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : manifest().get("resize")) {
            String name = c.get("name").asText();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                NpyArray in = npy("resize_" + name + ".in.npy");
                NpyArray out = npy("resize_" + name + ".out.npy");
                RgbImage src = new RgbImage((int) in.shape()[1], (int) in.shape()[0], in.data());
                RgbImage ours = Resampler.resize(src, c.get("width").asInt(), c.get("height").asInt(),
                        ResampleFilter.fromPilCode(c.get("filter").asInt()));
                assertEquals(out.shape()[1], ours.width());
                assertEquals(out.shape()[0], ours.height());
                assertArrayEquals(out.data(), ours.rgb(), name + ": resize differs from PIL");
            }));
        }
        assertTrue(tests.size() >= 14);
        return tests;
    }

    /** {differing pixels, max channel difference, sum of channel differences}. */
    static int[] difference(byte[] a, byte[] b) {
        if (a.length != b.length) {
            throw new UncheckedIOException(new IOException("sizes differ: " + a.length + " vs " + b.length));
        }
        int differing = 0, max = 0, sum = 0;
        for (int i = 0; i < a.length; i += 3) {
            int d = 0;
            for (int c = 0; c < 3; c++) {
                int e = Math.abs((a[i + c] & 0xff) - (b[i + c] & 0xff));
                d = Math.max(d, e);
                sum += e;
            }
            differing += d > 0 ? 1 : 0;
            max = Math.max(max, d);
        }
        return new int[] {differing, max, sum};
    }
}
