package org.paligemma4j.generate;

import java.util.List;

/**
 * Stop strings on the decoded text, across token boundaries. Text arrives in pieces (one token's worth at a
 * time) and is released only once it can no longer be the start of a stop string, so a stream never shows
 * text past (or a part of) the stop string that ends it; the final text ends just before the stop string.
 * Not thread-safe; one per generation.
 */
public final class StopStrings {
    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private int released;
    private int stopAt = -1;

    public StopStrings(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Appends a decoded piece; returns the text that is now safe to show (possibly ""). */
    public String accept(String piece) {
        if (stopped()) return "";
        text.append(piece);
        int earliest = -1;
        for (String stop : stops) {
            // A match cannot start inside released text: released text is never the start of a stop string.
            int at = text.indexOf(stop, released);
            if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
        }
        if (earliest >= 0) {
            stopAt = earliest;
            return release(earliest);
        }
        return release(text.length() - heldBack());
    }

    /** Whether a stop string has appeared. */
    public boolean stopped() {
        return stopAt >= 0;
    }

    /** At the end of generation: the text still held back (none after a stop string). */
    public String flush() {
        return stopped() ? "" : release(text.length());
    }

    /** The whole output text: everything before the stop string, if one appeared. */
    public String text() {
        return stopped() ? text.substring(0, stopAt) : text.toString();
    }

    /** Length of the longest unreleased suffix that is a proper prefix of some stop string. */
    private int heldBack() {
        int longest = 0;
        int pending = text.length() - released;
        for (String stop : stops) {
            for (int n = Math.min(stop.length() - 1, pending); n > longest; n--) {
                if (endsWith(stop, n)) {
                    longest = n;
                    break;
                }
            }
        }
        return longest;
    }

    /** Whether the text ends with the first n characters of {@code stop}. */
    private boolean endsWith(String stop, int n) {
        int from = text.length() - n;
        for (int i = 0; i < n; i++) if (text.charAt(from + i) != stop.charAt(i)) return false;
        return true;
    }

    private String release(int upTo) {
        String out = text.substring(released, upTo);
        released = upTo;
        return out;
    }
}
