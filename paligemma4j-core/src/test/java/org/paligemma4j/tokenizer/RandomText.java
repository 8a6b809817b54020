package org.paligemma4j.tokenizer;

import java.util.SplittableRandom;

/** Random test strings mixing every kind of text a tokenizer can meet, lone surrogates included. */
final class RandomText {
    private static final String[] SNIPPETS = {" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\u2581", "<loc0123>",
            "<seg042>", "<start_of_turn>", "<bos>", "<unk>", "<image>", "<0x41>", "[@BOS@]", "</td>", "<unused7>", "\uFFFD",
            "the", " cat", "Hello", "東京", "привет", "مرحبا", "😀", "👩‍👩‍👧", "\u0000"};

    private RandomText() {}

    static String next(SplittableRandom r, int maxLength) {
        int n = r.nextInt(maxLength + 1);
        StringBuilder b = new StringBuilder();
        while (b.length() < n) {
            switch (r.nextInt(10)) {
                case 0 -> b.append(SNIPPETS[r.nextInt(SNIPPETS.length)]);
                case 1 -> b.append((char) (0xD800 + r.nextInt(0x800))); // any surrogate, often unpaired
                case 2 -> b.appendCodePoint(0x10000 + r.nextInt(0x100000)); // supplementary planes
                case 3 -> b.append((char) r.nextInt(0x80));
                case 4 -> b.append((char) (0x80 + r.nextInt(0x780)));
                case 5 -> b.appendCodePoint(0x4E00 + r.nextInt(0x5200));
                case 6 -> {
                    int cp = r.nextInt(0x110000);
                    if (cp < 0xD800 || cp > 0xDFFF) b.appendCodePoint(cp);
                }
                default -> b.append((char) ('a' + r.nextInt(26)));
            }
        }
        return b.toString();
    }
}
