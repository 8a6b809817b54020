package org.paligemma4j.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.jcodec.api.SequenceEncoder;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Video input: frames sampled uniformly from a GIF, a folder of frames and an H.264 MP4, made here by the test. */
class VideoFramesTest {
    private static final Color[] COLOURS = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW, Color.MAGENTA};

    @Test
    void samplingIsUniformLikeNumpyLinspace() {
        assertArrayEquals(new int[] {0, 4, 9}, VideoFrames.sampleIndices(10, 3));
        assertArrayEquals(new int[] {0, 1, 2}, VideoFrames.sampleIndices(3, 8));
        assertArrayEquals(new int[] {0}, VideoFrames.sampleIndices(7, 1));
        assertArrayEquals(new int[] {0, 2, 4, 6}, VideoFrames.sampleIndices(7, 4));
    }

    @Test
    void animatedGifFramesAreComposited(@TempDir Path dir) throws IOException {
        Path gif = dir.resolve("clip.gif");
        try (ImageOutputStream out = ImageIO.createImageOutputStream(gif.toFile())) {
            ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
            writer.setOutput(out);
            writer.prepareWriteSequence(null);
            for (Color c : COLOURS) {
                BufferedImage frame = solid(c, 40, 30, BufferedImage.TYPE_INT_RGB);
                var meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), null);
                writer.writeToSequence(new IIOImage(frame, null, meta), null);
            }
            writer.endWriteSequence();
            writer.dispose();
        }
        List<RgbImage> frames = VideoFrames.sample(gif, 3);
        assertEquals(3, frames.size());
        assertColour(COLOURS[0], frames.get(0), 0);
        assertColour(COLOURS[2], frames.get(1), 0);
        assertColour(COLOURS[4], frames.get(2), 0);
        assertEquals(40, frames.get(0).width());
    }

    @Test
    void aFolderOfFramesIsReadInNameOrder(@TempDir Path dir) throws IOException {
        for (int i = 0; i < COLOURS.length; i++) {
            ImageIO.write(solid(COLOURS[i], 16, 16, BufferedImage.TYPE_INT_RGB), "png", dir.resolve("frame_" + i + ".png").toFile());
        }
        Files.writeString(dir.resolve("notes.txt"), "not a frame");
        List<RgbImage> frames = VideoFrames.sample(dir, 3);
        assertColour(COLOURS[0], frames.get(0), 0);
        assertColour(COLOURS[2], frames.get(1), 0);
        assertColour(COLOURS[4], frames.get(2), 0);
    }

    @Test
    void mp4FramesAreDecodedInPureJava(@TempDir Path dir) throws IOException {
        Path mp4 = dir.resolve("clip.mp4");
        SequenceEncoder encoder = SequenceEncoder.createSequenceEncoder(mp4.toFile(), 5);
        for (Color c : COLOURS) {
            Picture p = Picture.create(64, 48, ColorSpace.RGB);
            byte[] plane = p.getPlaneData(0);
            for (int i = 0; i < plane.length; i += 3) {
                plane[i] = (byte) (c.getRed() - 128);
                plane[i + 1] = (byte) (c.getGreen() - 128);
                plane[i + 2] = (byte) (c.getBlue() - 128);
            }
            encoder.encodeNativeFrame(p);
        }
        encoder.finish();
        List<RgbImage> frames = VideoFrames.sample(mp4, 3);
        assertEquals(3, frames.size());
        assertEquals(64, frames.get(0).width());
        assertEquals(48, frames.get(0).height());
        // H.264 is lossy: the colours come back close, not exact.
        assertColour(COLOURS[0], frames.get(0), 40);
        assertColour(COLOURS[2], frames.get(1), 40);
        assertColour(COLOURS[4], frames.get(2), 40);
    }

    @Test
    void somethingElseIsRefusedWithAClearError(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("clip.mp4");
        Files.writeString(text, "this is not a video at all");
        var e = assertThrows(InvalidImageException.class, () -> VideoFrames.sample(text, 4));
        assertTrue(e.getMessage().contains("clip.mp4"), e.getMessage());
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertThrows(InvalidImageException.class, () -> VideoFrames.sample(empty, 4));
        Path broken = dir.resolve("broken.mp4");
        byte[] header = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
        Files.write(broken, header);
        assertThrows(InvalidImageException.class, () -> VideoFrames.sample(broken, 4));
    }

    private static BufferedImage solid(Color c, int w, int h, int type) {
        BufferedImage image = new BufferedImage(w, h, type);
        Graphics2D g = image.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return image;
    }

    private static void assertColour(Color want, RgbImage image, int tolerance) {
        int x = image.width() / 2, y = image.height() / 2;
        int[] got = {image.get(x, y, 0), image.get(x, y, 1), image.get(x, y, 2)};
        int[] expected = {want.getRed(), want.getGreen(), want.getBlue()};
        for (int c = 0; c < 3; c++) {
            assertTrue(Math.abs(got[c] - expected[c]) <= tolerance,
                    "expected " + java.util.Arrays.toString(expected) + " but got " + java.util.Arrays.toString(got));
        }
    }
}
