package org.paligemma4j.hub;

import java.io.PrintStream;

/**
 * Hears how a download goes. Called from the download threads (several at once), so implementations must be
 * thread-safe. Every method has an empty default.
 */
public interface DownloadProgress {
    /** The revision is pinned to {@code commit}; {@code missing} of its {@code files} are not cached yet. */
    default void resolved(HubId id, String commit, int files, int missing) {}

    /** Transfers begin: {@code bytes} to fetch in {@code files} files (bytes already on disk count as done). */
    default void started(long bytes, int files) {}

    /** {@code bytes} more arrived (negative when a file had to start over). */
    default void transferred(long bytes) {}

    /** A file was verified and published in the cache. */
    default void fileDone(String file, long bytes) {}

    /** Every file is in place. */
    default void finished() {}

    /** Something the user should know (a fallback to the cache, a resumed transfer). */
    default void note(String message) {}

    /** Reports nothing. */
    static DownloadProgress silent() {
        return new DownloadProgress() {};
    }

    /** A progress bar (bytes, rate, ETA) on a terminal; plain lines when {@code out} is a file or pipe. */
    static DownloadProgress console(PrintStream out) {
        return new ConsoleProgress(out, System.console() != null && System.console().isTerminal());
    }

    /** As {@link #console(PrintStream)}, saying whether {@code out} is a terminal. */
    static DownloadProgress console(PrintStream out, boolean terminal) {
        return new ConsoleProgress(out, terminal);
    }
}
