package org.paligemma4j.image;

/**
 * The antialiasing filters that {@link Resampler} reproduces bit for bit, with PIL's numeric codes
 * (the {@code resample} field of {@code preprocessor_config.json}).
 */
public enum ResampleFilter {
    /** Triangle filter, support 1. PIL {@code Image.BILINEAR}. */
    BILINEAR(2, 1.0),
    /** Keys cubic convolution with a = -0.5, support 2. PIL {@code Image.BICUBIC}; the SigLIP default. */
    BICUBIC(3, 2.0);

    private final int pilCode;
    private final double support;

    ResampleFilter(int pilCode, double support) {
        this.pilCode = pilCode;
        this.support = support;
    }

    public int pilCode() {
        return pilCode;
    }

    /** Half-width of the filter at scale 1; it widens by the downscaling factor (antialiasing). */
    double support() {
        return support;
    }

    /** The filter's weight at distance {@code x} (in input pixels at scale 1). */
    double weight(double x) {
        if (x < 0.0) {
            x = -x;
        }
        return switch (this) {
            case BILINEAR -> x < 1.0 ? 1.0 - x : 0.0;
            // Written in the same operation order as PIL, so the doubles round the same way.
            case BICUBIC -> x < 1.0 ? ((-0.5 + 2.0) * x - (-0.5 + 3.0)) * x * x + 1
                    : x < 2.0 ? (((x - 5) * x + 8) * x - 4) * -0.5
                    : 0.0;
        };
    }

    /** The filter for a PIL resample code, or a clear error naming the supported ones. */
    public static ResampleFilter fromPilCode(int code) {
        for (ResampleFilter f : values()) {
            if (f.pilCode == code) {
                return f;
            }
        }
        String name = switch (code) {
            case 0 -> " (NEAREST)";
            case 1 -> " (LANCZOS)";
            case 4 -> " (BOX)";
            case 5 -> " (HAMMING)";
            default -> "";
        };
        throw new IllegalArgumentException("resample " + code + name
                + " is not supported; supported: 2 (BILINEAR), 3 (BICUBIC)");
    }
}
