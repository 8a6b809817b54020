package org.paligemma4j.image;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Truncated and bit-flipped copies of every cross-check file (all formats): each must either decode
 * to an image of its header's size or fail with an {@link InvalidImageException} naming the file,
 * within seconds, never with another exception. Cuts into the pixel data must always fail (PIL
 * refuses truncated files too), and so must any flipped bit in a PNG (CRCs). A flipped bit in
 * compressed JPEG/WebP/GIF data can legitimately decode to other pixels, as it does in PIL.
 */
class MutatedImageFilesTest {

    static final double[] CUTS = {0.05, 0.3, 0.6, 0.9};
    static final int FLIPS_PER_FILE = 4;

    record Outcome(String name, boolean decoded, String message) {}

    @Test
    void everyMutatedFileDecodesOrFailsWithAClearErrorWithoutHanging() throws Exception {
        List<Outcome> outcomes = new ArrayList<>();
        Random random = new Random(4);
        int truncated = 0, truncatedRefused = 0, pngFlips = 0, pngFlipsRefused = 0;
        for (JsonNode c : PilCrossCheckTest.manifest().get("decode")) {
            String file = c.get("file").asText();
            byte[] original = PilCrossCheckTest.resource(file);
            for (double cut : CUTS) {
                byte[] data = java.util.Arrays.copyOf(original, (int) (original.length * cut));
                Outcome o = decode(file + "@cut" + data.length, data);
                outcomes.add(o);
                truncated++;
                if (!o.decoded) {
                    truncatedRefused++;
                    assertTrue(o.message.contains("truncated") || o.message.contains("corrupt") || o.message.contains("invalid")
                            || o.message.contains("no image") || o.message.contains("unsupported"), o.message);
                } else {
                    fail(o.name + ": a file cut to " + cut + " of its length decoded without error");
                }
            }
            for (int i = 0; i < FLIPS_PER_FILE; i++) {
                byte[] data = original.clone();
                // Half the flips land in the first 64 bytes, where the headers are.
                int pos = i % 2 == 0 ? random.nextInt(Math.min(64, data.length)) : random.nextInt(data.length);
                data[pos] ^= (byte) (1 << random.nextInt(8));
                Outcome o = decode(file + "@flip" + pos, data);
                outcomes.add(o);
                if (file.endsWith(".png")) {
                    pngFlips++;
                    pngFlipsRefused += o.decoded ? 0 : 1;
                    assertTrue(!o.decoded, o.name + ": a PNG with a flipped bit decoded");
                }
            }
        }
        long refused = outcomes.stream().filter(o -> !o.decoded).count();
        System.out.printf("mutated files: %d (%d truncated, %d bit flips); refused with a clear error: %d; decoded: %d;"
                        + " truncated refused %d/%d; PNG flips refused %d/%d%n",
                outcomes.size(), truncated, outcomes.size() - truncated, refused, outcomes.size() - refused,
                truncatedRefused, truncated, pngFlipsRefused, pngFlips);
        outcomes.stream().filter(o -> !o.decoded && !o.name.contains(".png@") && !o.name.contains("cut")).limit(60).forEach(o -> System.out.println("  " + o.message));
        assertTrue(outcomes.size() >= 200, "only " + outcomes.size() + " mutated files");
    }

    private static Outcome decode(String name, byte[] data) {
        return assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            try {
                RgbImage img = ImageLoader.decode(data, name, ImageLoader.DEFAULT_MAX_PIXELS);
                assertEquals((long) img.width() * img.height() * 3, img.rgb().length);
                return new Outcome(name, true, null);
            } catch (InvalidImageException e) {
                assertTrue(e.getMessage().startsWith(name + ": "), "message does not name the file: " + e.getMessage());
                assertTrue(e.getMessage().length() > name.length() + 12, "message too vague: " + e.getMessage());
                return new Outcome(name, false, e.getMessage());
            } catch (Throwable t) {
                throw new AssertionError(name + ": escaped as " + t, t);
            }
        }, name + " took longer than 10 s");
    }
}
