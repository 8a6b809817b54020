package org.paligemma4j.scenes;

/** The colours shapes are painted in: saturated, far apart from each other and from the pale backgrounds. */
public enum Colour {
    RED("red", 0xD62728),
    GREEN("green", 0x2CA02C),
    BLUE("blue", 0x1F5FD0),
    YELLOW("yellow", 0xF2C500),
    PURPLE("purple", 0x8E3CB8),
    ORANGE("orange", 0xF07800);

    private final String word;
    private final int rgb;

    Colour(String word, int rgb) {
        this.word = word;
        this.rgb = rgb;
    }

    public String word() {
        return word;
    }

    /** 0xRRGGBB. */
    public int rgb() {
        return rgb;
    }
}
