package org.paligemma4j.hub;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The lock Python's {@code huggingface_hub} takes on {@code .locks/.../<etag>.lock}: BSD {@code flock(2)} (through
 * the {@code filelock} package). On Linux, {@code flock} and the POSIX record locks behind {@link
 * java.nio.channels.FileChannel#lock()} do not see each other, so without this a Python download and ours could
 * write the same {@code .incomplete} file at once. Used only where the JVM allows native access
 * ({@code --enable-native-access}, which {@code bin/paligemma} passes) on Linux and macOS; elsewhere the
 * FileChannel lock alone guards against other JVMs.
 */
final class PythonCompatibleLock {
    private static final int O_RDWR = 2;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final MethodHandle OPEN;
    private static final MethodHandle FLOCK;
    private static final MethodHandle CLOSE;
    private static final StructLayout CALL_STATE;
    private static final VarHandle ERRNO;
    /** EWOULDBLOCK: the lock is held elsewhere (11 on Linux, 35 on macOS). */
    private static final int WOULD_BLOCK;

    static {
        MethodHandle open = null;
        MethodHandle flock = null;
        MethodHandle close = null;
        StructLayout state = null;
        VarHandle errno = null;
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        boolean mac = os.contains("mac");
        try {
            if ((os.contains("linux") || mac) && PythonCompatibleLock.class.getModule().isNativeAccessEnabled()) {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                Linker.Option captureErrno = Linker.Option.captureCallState("errno");
                state = Linker.Option.captureStateLayout();
                errno = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                open = linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
                flock = linker.downcallHandle(libc.find("flock").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), captureErrno);
                close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
            }
        } catch (RuntimeException | LinkageError e) {
            open = null; // no libc flock here: the FileChannel lock stays the only one
        }
        OPEN = open;
        FLOCK = flock;
        CLOSE = close;
        CALL_STATE = state;
        ERRNO = errno;
        WOULD_BLOCK = mac ? 35 : 11;
    }

    private PythonCompatibleLock() {}

    static boolean available() {
        return OPEN != null;
    }

    /**
     * Opens {@code file} (which must exist) and waits for an exclusive flock on it, polling; returns the descriptor to
     * pass to {@link #release}, or -1 when flock is unavailable or the file system does not support it.
     */
    static int acquire(Path file, long pollMillis) throws IOException {
        if (!available()) return -1;
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(file.toString()), O_RDWR);
            if (fd < 0) return -1;
            MemorySegment state = arena.allocate(CALL_STATE);
            while (true) {
                int rc = (int) FLOCK.invokeExact(state, fd, LOCK_EX | LOCK_NB);
                if (rc == 0) return fd;
                int err = (int) ERRNO.get(state, 0L);
                if (err != WOULD_BLOCK) {
                    int ignored = (int) CLOSE.invokeExact(fd);
                    return -1;
                }
                try {
                    Thread.sleep(pollMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    int ignored = (int) CLOSE.invokeExact(fd);
                    throw new InterruptedIOException("interrupted while waiting for " + file);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("flock call failed", t);
        }
    }

    /** Closes the descriptor, which releases its flock. */
    static void release(int fd) {
        if (fd < 0) return;
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close call failed", t);
        }
    }
}
