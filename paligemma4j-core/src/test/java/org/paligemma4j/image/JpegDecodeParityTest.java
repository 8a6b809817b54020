package org.paligemma4j.image;

import org.junit.jupiter.api.Test;
import org.paligemma4j.io.NpyArray;
import org.paligemma4j.testing.Fixtures;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fixture JPEG (97x131, 4:2:0, JFIF) decoded here against the pixels PIL (libjpeg-turbo)
 * decoded: libjpeg's integer IDCT, fancy upsampling and fixed-point YCbCr conversion are the same
 * algorithms, so the target is identical pixels, measured and printed.
 */
class JpegDecodeParityTest {

    @Test
    void fixtureJpegDecodesToTheSamePixelsAsPil() throws Exception {
        Path jpg = Fixtures.path("images", "photo_like.jpg");
        NpyArray pil = NpyArray.read(Fixtures.path("images", "photo_like.jpg.rgb.npy"));
        RgbImage ours = ImageLoader.load(jpg);
        assertEquals(pil.shape()[0], ours.height());
        assertEquals(pil.shape()[1], ours.width());
        int differing = 0;
        int maxDiff = 0;
        byte[] expected = pil.data();
        for (int i = 0; i < expected.length; i += 3) {
            int d = 0;
            for (int c = 0; c < 3; c++) {
                d = Math.max(d, Math.abs((expected[i + c] & 0xff) - (ours.rgb()[i + c] & 0xff)));
            }
            if (d > 0) {
                differing++;
            }
            maxDiff = Math.max(maxDiff, d);
        }
        System.out.printf("photo_like.jpg vs PIL: %d of %d pixels differ (%.4f%%), max |diff| %d%n",
                differing, expected.length / 3, 100.0 * differing / (expected.length / 3), maxDiff);
        assertArrayEquals(expected, ours.rgb(), differing + " pixels differ, max " + maxDiff);
    }
}
