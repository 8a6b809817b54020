package org.paligemma4j.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte sizes written the way people write them: 5GB, 2GiB, 500MB, 1048576. */
final class Sizes {
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?i?b?)?", Pattern.CASE_INSENSITIVE);

    private Sizes() {}

    static long parseBytes(String option, String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) throw new CliException(option + " '" + text + "' is not a size like 5GB, 2GiB or 500MB");
        double value = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2).toLowerCase(Locale.ROOT);
        boolean binary = unit.contains("i");
        double base = binary ? 1024 : 1000;
        int power = unit.isEmpty() ? 0 : switch (unit.charAt(0)) {
            case 'k' -> 1;
            case 'm' -> 2;
            case 'g' -> 3;
            case 't' -> 4;
            default -> 0;
        };
        long bytes = (long) (value * Math.pow(base, power));
        if (bytes <= 0) throw new CliException(option + " must be positive");
        return bytes;
    }
}
