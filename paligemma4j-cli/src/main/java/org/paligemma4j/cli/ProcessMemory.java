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
