package org.paligemma4j.hub;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Download progress for people: on a terminal one line rewritten in place (a bar, bytes done of total, rate,
 * ETA, files); elsewhere (logs, CI) plain lines: one per verified file and one every {@value #PLAIN_EVERY_S} s.
 */
final class ConsoleProgress implements DownloadProgress {
    private static final long BAR_EVERY_NS = 200_000_000L;
    private static final int PLAIN_EVERY_S = 10;
    private static final int BAR_WIDTH = 24;

    private final PrintStream out;
    private final boolean terminal;
    private final AtomicLong done = new AtomicLong();
    private final AtomicInteger filesDone = new AtomicInteger();
    private volatile long total;
    private volatile int files;
    private volatile long startNanos;
    private volatile long lastPrintNanos;
    private volatile boolean barShown;
    private volatile String label = "";

    ConsoleProgress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public void resolved(HubId id, String commit, int fileCount, int missing) {
        label = id.repoId();
        synchronized (this) {
            if (missing == 0) out.println(id + ": all " + fileCount + " files cached (commit " + commit + ")");
            else out.println(id + ": commit " + commit + ", " + missing + " of " + fileCount + " files to fetch");
            out.flush();
        }
    }

    @Override
    public void started(long bytes, int fileCount) {
        total = bytes;
        files = fileCount;
        startNanos = System.nanoTime();
        lastPrintNanos = startNanos;
    }

    @Override
    public void transferred(long bytes) {
        done.addAndGet(bytes);
        long now = System.nanoTime();
        long last = lastPrintNanos;
        long every = terminal ? BAR_EVERY_NS : PLAIN_EVERY_S * 1_000_000_000L;
        if (now - last >= every) {
            synchronized (this) {
                if (now - lastPrintNanos < every) return;
                lastPrintNanos = now;
                print(now);
            }
        }
    }

    @Override
    public synchronized void fileDone(String file, long bytes) {
        int n = filesDone.incrementAndGet();
        if (terminal) {
            print(System.nanoTime());
        } else {
            out.printf(Locale.ROOT, "  %s (%s) verified [%d/%d]%n", file, size(bytes), n, files);
            out.flush();
        }
    }

    @Override
    public synchronized void finished() {
        if (terminal && barShown) out.println();
        if (startNanos != 0 && total > 0) {
            double s = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
            out.printf(Locale.ROOT, "%s: %s in %.1f s (%s/s)%n", label, size(done.get()), s, size((long) (done.get() / s)));
        }
        out.flush();
    }

    @Override
    public synchronized void note(String message) {
        if (terminal && barShown) out.println();
        barShown = false;
        out.println(message);
        out.flush();
    }

    private void print(long now) {
        long d = Math.max(0, done.get());
        long t = Math.max(total, d);
        double seconds = Math.max(1e-9, (now - startNanos) / 1e9);
        double rate = d / seconds;
        String eta = rate > 0 && t > d ? duration((t - d) / rate) : "--";
        if (terminal) {
            int filled = t == 0 ? BAR_WIDTH : (int) (BAR_WIDTH * d / t);
            String bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
            out.printf(Locale.ROOT, "\r[%s] %s / %s  %s/s  ETA %s  %d/%d files ", bar, size(d), size(t), size((long) rate), eta,
                    filesDone.get(), files);
            barShown = true;
        } else {
            out.printf(Locale.ROOT, "  %s of %s, %s/s, ETA %s%n", size(d), size(t), size((long) rate), eta);
        }
        out.flush();
    }

    static String size(long bytes) {
        if (bytes < 1000) return bytes + " B";
        if (bytes < 1_000_000) return String.format(Locale.ROOT, "%.1f kB", bytes / 1e3);
        if (bytes < 1_000_000_000) return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }

    private static String duration(double seconds) {
        long s = (long) Math.ceil(seconds);
        if (s >= 3600) return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
