package org.paligemma4j.hub;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Holds a blob's lock file the way Python's huggingface_hub does (flock only, no POSIX record lock) until standard
 * input closes: the stand-in for a Python download in progress. Argument: the lock file.
 */
public final class PythonLockHolder {
    private PythonLockHolder() {}

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        Files.createDirectories(file.getParent());
        if (!Files.exists(file)) Files.createFile(file);
        int fd = PythonCompatibleLock.acquire(file, 10);
        System.out.println(fd >= 0 ? "locked" : "unavailable");
        System.out.flush();
        while (System.in.read() >= 0) {
            // hold until stdin closes
        }
        PythonCompatibleLock.release(fd);
    }
}
