package org.paligemma4j.cli;

/** The few JSON helpers the CLI's hand-written outputs need. */
final class Json {
    private Json() {}

    /** Escapes a string for use inside JSON double quotes. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.toString();
    }

    /** A JSON array of ids. */
    static String ints(int[] ids) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) b.append(',');
            b.append(ids[i]);
        }
        return b.append(']').toString();
    }

    /** A finite number as JSON (non-finite values, which JSON cannot hold, as null). */
    static String number(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }
}
