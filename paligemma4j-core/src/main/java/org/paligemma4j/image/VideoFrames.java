package org.paligemma4j.image;

import java.awt.AlphaComposite;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.jcodec.api.FrameGrab;
import org.jcodec.api.JCodecException;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.jcodec.scale.ColorUtil;
import org.jcodec.scale.Transform;
import org.w3c.dom.Node;

/**
 * Frames sampled uniformly from a video, for PaliGemma's video transfers (each frame is one image of the
 * prompt): an animated GIF (frames composited as a viewer shows them), a folder of frame images (in file-name
 * order), or an MP4/MOV with H.264 video (decoded in pure Java). Frame i of k is frame
 * {@code floor(i·(n−1)/(k−1))} of the n frames (numpy's {@code linspace(0, n−1, k).astype(int)}); with
 * k ≥ n every frame is used.
 */
public final class VideoFrames {
    private static final List<String> FRAME_EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp");

    private VideoFrames() {}

    /** The indices of {@code k} frames sampled uniformly from {@code n}. */
    public static int[] sampleIndices(int n, int k) {
        if (n < 1) throw new IllegalArgumentException("a video needs at least one frame");
        if (k < 1) throw new IllegalArgumentException("the number of frames must be at least 1, got " + k);
        if (k >= n) return java.util.stream.IntStream.range(0, n).toArray();
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = k == 1 ? 0 : (int) ((long) i * (n - 1) / (k - 1));
        return out;
    }

    /** {@code frames} frames of the video at {@code path} (a GIF, an MP4/MOV, or a folder of images). */
    public static List<RgbImage> sample(Path path, int frames) throws IOException {
        if (Files.isDirectory(path)) return fromFolder(path, frames);
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        byte[] head = new byte[12];
        try (var in = Files.newInputStream(path)) {
            int n = in.readNBytes(head, 0, head.length);
            if (n >= 6 && new String(head, 0, 6, java.nio.charset.StandardCharsets.ISO_8859_1).startsWith("GIF8")) {
                return fromGif(path, frames);
            }
            if (n >= 8 && new String(head, 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1).matches("ftyp|moov|mdat|wide|free")) {
                return fromMp4(path, frames);
            }
        }
        throw new InvalidImageException(path + ": not a video this program reads (an animated GIF, an MP4/MOV file, or a folder of frames)"
                + (name.endsWith(".mp4") || name.endsWith(".mov") ? "; the file does not start like an MP4" : ""));
    }

    private static List<RgbImage> fromFolder(Path folder, int frames) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(folder)) {
            files = s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return FRAME_EXTENSIONS.stream().anyMatch(n::endsWith);
            }).sorted().toList();
        }
        if (files.isEmpty()) throw new InvalidImageException(folder + ": no frame images (" + String.join(", ", FRAME_EXTENSIONS) + ") in the folder");
        List<RgbImage> out = new ArrayList<>();
        for (int i : sampleIndices(files.size(), frames)) out.add(ImageLoader.load(files.get(i)));
        return out;
    }

    /** Animated GIF frames composited on the logical screen: each frame at its offset, then its disposal. */
    private static List<RgbImage> fromGif(Path path, int frames) throws IOException {
        byte[] data = Files.readAllBytes(path);
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("gif");
            if (!readers.hasNext()) throw new IOException("this JDK cannot read GIF files");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, false);
                int n = reader.getNumImages(true);
                if (n < 1) throw new InvalidImageException(path + ": the GIF has no frames");
                Node screen = child(reader.getStreamMetadata().getAsTree("javax_imageio_gif_stream_1.0"), "LogicalScreenDescriptor");
                int width = screen == null ? 0 : intAttribute(screen, "logicalScreenWidth");
                int height = screen == null ? 0 : intAttribute(screen, "logicalScreenHeight");
                if (width <= 0 || height <= 0) {
                    width = reader.getWidth(0);
                    height = reader.getHeight(0);
                }
                if ((long) width * height > ImageLoader.DEFAULT_MAX_PIXELS) {
                    throw new InvalidImageException(path + ": a " + width + "x" + height + " GIF is larger than the pixel budget");
                }
                int[] wanted = sampleIndices(n, frames);
                List<RgbImage> out = new ArrayList<>();
                BufferedImage canvas = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
                int next = 0;
                for (int i = 0; i <= wanted[wanted.length - 1]; i++) {
                    BufferedImage frame = reader.read(i);
                    IIOMetadata meta = reader.getImageMetadata(i);
                    Node tree = meta.getAsTree("javax_imageio_gif_image_1.0");
                    Node descriptor = child(tree, "ImageDescriptor"), control = child(tree, "GraphicControlExtension");
                    int left = descriptor == null ? 0 : intAttribute(descriptor, "imageLeftPosition");
                    int top = descriptor == null ? 0 : intAttribute(descriptor, "imageTopPosition");
                    String disposal = control == null ? "none" : control.getAttributes().getNamedItem("disposalMethod").getNodeValue();
                    BufferedImage before = "restoreToPrevious".equals(disposal) ? copy(canvas) : null;
                    Graphics2D g = canvas.createGraphics();
                    g.drawImage(frame, left, top, null);
                    g.dispose();
                    if (next < wanted.length && wanted[next] == i) {
                        out.add(toRgb(canvas));
                        next++;
                    }
                    if ("restoreToBackgroundColor".equals(disposal)) {
                        Graphics2D clear = canvas.createGraphics();
                        clear.setComposite(AlphaComposite.Clear);
                        clear.fillRect(left, top, frame.getWidth(), frame.getHeight());
                        clear.dispose();
                    } else if (before != null) {
                        canvas = before;
                    }
                }
                return out;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidImageException i) throw i;
            throw new InvalidImageException(path + ": cannot read the GIF's frames (" + e.getMessage() + ")");
        }
    }

    private static List<RgbImage> fromMp4(Path path, int frames) throws IOException {
        try (var channel = NIOUtils.readableChannel(path.toFile())) {
            FrameGrab grab = FrameGrab.createFrameGrab(channel);
            int n = grab.getVideoTrack().getMeta().getTotalFrames();
            List<RgbImage> out = new ArrayList<>();
            for (int i : sampleIndices(n, frames)) {
                grab.seekToFramePrecise(i);
                Picture picture = grab.getNativeFrame();
                if (picture == null) throw new InvalidImageException(path + ": frame " + i + " of " + n + " could not be decoded");
                out.add(toRgb(picture));
            }
            return out;
        } catch (JCodecException | IOException | RuntimeException e) {
            if (e instanceof InvalidImageException i) throw i;
            throw new InvalidImageException(path + ": cannot decode the video (" + e.getMessage()
                    + "); H.264 in MP4/MOV is supported");
        }
    }

    private static RgbImage toRgb(Picture picture) {
        Picture rgb = Picture.create(picture.getWidth(), picture.getHeight(), ColorSpace.RGB);
        Transform t = ColorUtil.getTransform(picture.getColor(), ColorSpace.RGB);
        t.transform(picture, rgb);
        int w = picture.getCroppedWidth(), h = picture.getCroppedHeight();
        byte[] plane = rgb.getPlaneData(0), out = new byte[w * h * 3];
        // jcodec keeps samples as signed bytes centred on 0; its RGB planes are interleaved in R, G, B order.
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w * 3; x++) out[(y * w) * 3 + x] = (byte) (plane[y * picture.getWidth() * 3 + x] + 128);
        }
        return new RgbImage(w, h, out);
    }

    private static RgbImage toRgb(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = image.getRGB(x, y), i = (y * w + x) * 3;
                out[i] = (byte) (argb >> 16);
                out[i + 1] = (byte) (argb >> 8);
                out[i + 2] = (byte) argb;
            }
        }
        return new RgbImage(w, h, out);
    }

    private static BufferedImage copy(BufferedImage image) {
        BufferedImage c = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = c.createGraphics();
        g.drawImage(image, 0, 0, null);
        g.dispose();
        return c;
    }

    private static Node child(Node node, String name) {
        for (Node c = node.getFirstChild(); c != null; c = c.getNextSibling()) if (name.equals(c.getNodeName())) return c;
        return null;
    }

    private static int intAttribute(Node node, String name) {
        Node a = node.getAttributes().getNamedItem(name);
        return a == null ? 0 : Integer.parseInt(a.getNodeValue());
    }
}
