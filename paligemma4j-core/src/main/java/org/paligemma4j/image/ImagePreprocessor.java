package org.paligemma4j.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The SigLIP image processor of Hugging Face ({@code SiglipImageProcessor}), as PaliGemma uses it:
 * resize to a fixed size with PIL's filter (no crop, no aspect-ratio preservation), multiply by
 * {@code rescale_factor} in double precision and round to float, then {@code (x - mean) / std} in
 * float, laid out channel-first. Grayscale and palette images reach it already converted to RGB by
 * {@link ImageLoader}, so {@code do_convert_rgb} has nothing left to do.
 */
public final class ImagePreprocessor {

    /** {@code SiglipImageProcessor}'s defaults, used for fields that a config leaves out. */
    public static final int DEFAULT_SIZE = 224;
    public static final double DEFAULT_RESCALE_FACTOR = 1 / 255.0;
    private static final double[] DEFAULT_MEAN = {0.5, 0.5, 0.5};
    private static final double[] DEFAULT_STD = {0.5, 0.5, 0.5};

    private final int height;
    private final int width;
    private final ResampleFilter resample;
    private final boolean doRescale;
    private final double rescaleFactor;
    private final boolean doNormalize;
    private final double[] mean;
    private final double[] std;

    /** A square {@code size x size} processor that rescales and normalises. */
    public ImagePreprocessor(int size, ResampleFilter resample, double rescaleFactor, double[] mean, double[] std) {
        this(size, size, resample, true, rescaleFactor, true, mean, std);
    }

    /**
     * Every field of the HF processor. {@code mean} and {@code std} are kept as the config's doubles
     * and rounded to float when applied, as numpy does when it builds them with the image's dtype.
     */
    public ImagePreprocessor(int height, int width, ResampleFilter resample, boolean doRescale,
                             double rescaleFactor, boolean doNormalize, double[] mean, double[] std) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + height + "x" + width);
        }
        if (resample == null) {
            throw new IllegalArgumentException("resample filter is required");
        }
        if (!Double.isFinite(rescaleFactor)) {
            throw new IllegalArgumentException("rescale_factor must be finite, got " + rescaleFactor);
        }
        this.height = height;
        this.width = width;
        this.resample = resample;
        this.doRescale = doRescale;
        this.rescaleFactor = rescaleFactor;
        this.doNormalize = doNormalize;
        this.mean = checkChannels("image_mean", mean).clone();
        this.std = checkChannels("image_std", std).clone();
    }

    /**
     * Reads a Hugging Face {@code preprocessor_config.json}: {@code size} as {@code {height, width}},
     * {@code {shortest_edge}} (taken as a square: PaliGemma's tower needs a fixed size) or a number;
     * {@code resample}, {@code rescale_factor}, {@code image_mean}, {@code image_std} (a list of 3 or
     * one number), {@code do_rescale}, {@code do_normalize}, {@code do_resize}, {@code do_convert_rgb}.
     * Absent or null fields take {@code SiglipImageProcessor}'s defaults.
     */
    public static ImagePreprocessor fromJson(Path preprocessorConfigJson) throws IOException {
        String name = preprocessorConfigJson.toString();
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(preprocessorConfigJson));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(name, null, "preprocessor config not found");
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(name + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.CharConversionException e) {
            // Jackson guesses the encoding from the first bytes; damaged ones can make it read UTF-32 garbage.
            throw new IOException(name + ": not valid JSON text: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(name + ": expected a JSON object");
        }
        try {
            if (!bool(root, "do_resize", true)) {
                throw new IllegalArgumentException("do_resize=false is not supported: the vision tower needs a fixed input size");
            }
            int[] size = size(root.get("size"));
            int resampleCode = integer(root, "resample", ResampleFilter.BICUBIC.pilCode());
            return new ImagePreprocessor(size[0], size[1], ResampleFilter.fromPilCode(resampleCode),
                    bool(root, "do_rescale", true), number(root, "rescale_factor", DEFAULT_RESCALE_FACTOR),
                    bool(root, "do_normalize", true),
                    channels(root, "image_mean", DEFAULT_MEAN), channels(root, "image_std", DEFAULT_STD));
        } catch (IllegalArgumentException e) {
            throw new IOException(name + ": " + e.getMessage(), e);
        }
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public ResampleFilter resample() {
        return resample;
    }

    /** The image resized to {@code width x height} with PIL's filter, still 8-bit. */
    public RgbImage resize(RgbImage image) {
        return Resampler.resize(image, width, height, resample);
    }

    /** Resize, rescale and normalise: {@code [3, height, width]} floats, the model's {@code pixel_values}. */
    public float[] pixelValues(RgbImage image) {
        return normalize(resize(image));
    }

    /**
     * Rescale and normalise an image that already has the target size: {@code [3, height, width]}.
     * The arithmetic follows numpy in the reference: {@code x * rescale_factor} in double, rounded to
     * float, then {@code (x - mean) / std} in float with float mean and std.
     */
    public float[] normalize(RgbImage resized) {
        if (resized.width() != width || resized.height() != height) {
            throw new IllegalArgumentException("expected a " + width + "x" + height + " image, got "
                    + resized.width() + "x" + resized.height() + " (call resize first)");
        }
        int plane = width * height;
        float[] out = new float[3 * plane];
        byte[] rgb = resized.rgb();
        for (int c = 0; c < 3; c++) {
            // One lookup per channel: the result depends only on the 8-bit value.
            float[] table = new float[256];
            float m = (float) mean[c];
            float s = (float) std[c];
            for (int v = 0; v < 256; v++) {
                float x = doRescale ? (float) (v * rescaleFactor) : v;
                table[v] = doNormalize ? (x - m) / s : x;
            }
            for (int p = 0; p < plane; p++) {
                out[c * plane + p] = table[rgb[p * 3 + c] & 0xff];
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "ImagePreprocessor[" + width + "x" + height + ", " + resample
                + (doRescale ? ", rescale " + rescaleFactor : ", no rescale")
                + (doNormalize ? ", mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std) : ", no normalize")
                + "]";
    }

    private static double[] checkChannels(String field, double[] values) {
        if (values == null || values.length != 3) {
            throw new IllegalArgumentException(field + " must have 3 values (R, G, B), got "
                    + (values == null ? "null" : Arrays.toString(values)));
        }
        for (double v : values) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException(field + " must be finite, got " + Arrays.toString(values));
            }
        }
        return values;
    }

    private static int[] size(JsonNode size) {
        if (size == null || size.isNull()) {
            return new int[] {DEFAULT_SIZE, DEFAULT_SIZE};
        }
        if (size.isIntegralNumber()) {
            return new int[] {size.intValue(), size.intValue()};
        }
        if (size.isObject()) {
            if (size.has("height") && size.has("width")) {
                return new int[] {positive(size, "height"), positive(size, "width")};
            }
            if (size.has("shortest_edge")) {
                int s = positive(size, "shortest_edge");
                return new int[] {s, s};
            }
        }
        throw new IllegalArgumentException("field 'size' must be {\"height\": H, \"width\": W}, "
                + "{\"shortest_edge\": S} or a number, got " + size);
    }

    private static int positive(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() <= 0) {
            throw new IllegalArgumentException("field 'size." + field + "' must be a positive integer, got " + v);
        }
        return v.intValue();
    }

    private static boolean bool(JsonNode root, String field, boolean dflt) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("field '" + field + "' must be true, false or null, got " + v);
        }
        return v.booleanValue();
    }

    private static int integer(JsonNode root, String field, int dflt) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException("field '" + field + "' must be an integer, got " + v);
        }
        return v.intValue();
    }

    private static double number(JsonNode root, String field, double dflt) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("field '" + field + "' must be a number, got " + v);
        }
        return v.doubleValue();
    }

    private static double[] channels(JsonNode root, String field, double[] dflt) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (v.isNumber()) {
            return new double[] {v.doubleValue(), v.doubleValue(), v.doubleValue()};
        }
        if (v.isArray() && v.size() == 3) {
            double[] out = new double[3];
            for (int i = 0; i < 3; i++) {
                if (!v.get(i).isNumber()) {
                    throw new IllegalArgumentException("field '" + field + "' must hold numbers, got " + v);
                }
                out[i] = v.get(i).doubleValue();
            }
            return out;
        }
        throw new IllegalArgumentException("field '" + field + "' must be a list of 3 numbers or one number, got " + v);
    }
}
