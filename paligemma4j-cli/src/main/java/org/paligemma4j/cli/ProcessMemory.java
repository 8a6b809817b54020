package org.paligemma4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident set size of this process, from /proc (0 where /proc is not available). */
final class ProcessMemory {
    private ProcessMemory() {}

    static long residentBytes() {
        return statusField("VmRSS:");
    }

    /** The high-water mark of resident memory. */
    static long peakResidentBytes() {
        return statusField("VmHWM:");
    }

    /**
     * Resets the high-water mark to the present resident size (Linux: "5" into /proc/self/clear_refs), so that memory
     * a measurement held and gave back (bench's 1 GiB bandwidth buffer) is not counted as the model's. False where
     * that is not possible: the mark then still holds it.
     */
    static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static long statusField(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).replace("kB", "").strip()) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }
}
