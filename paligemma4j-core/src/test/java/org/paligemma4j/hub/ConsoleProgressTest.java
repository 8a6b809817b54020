package org.paligemma4j.hub;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {
    private static String run(boolean terminal) throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        DownloadProgress p = DownloadProgress.console(out, terminal);
        p.resolved(HubId.parse("google/paligemma2-3b-mix-224"), "0".repeat(40), 3, 2);
        p.started(3_000_000_000L, 2);
        p.transferred(500_000_000L);
        Thread.sleep(250); // past the bar's redraw interval
        p.transferred(500_000_000L);
        p.fileDone("model-00001-of-00002.safetensors", 1_000_000_000L);
        p.transferred(2_000_000_000L);
        p.fileDone("model-00002-of-00002.safetensors", 2_000_000_000L);
        p.finished();
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void terminalShowsABarWithBytesRateAndEta() throws InterruptedException {
        String s = run(true);
        assertTrue(s.contains("\r[########................] 1.00 GB / 3.00 GB"), s.replace("\r", "<CR>"));
        assertTrue(s.contains("/s  ETA 0:0"), s.replace("\r", "<CR>"));
        assertTrue(s.contains("1/2 files"), s);
        assertTrue(s.contains("[########################] 3.00 GB / 3.00 GB"), s);
        assertTrue(s.contains("google/paligemma2-3b-mix-224: 3.00 GB in "), s);
    }

    @Test
    void pipesGetPlainLinesOnePerFile() throws InterruptedException {
        String s = run(false);
        assertFalse(s.contains("\r"), s);
        assertTrue(s.contains("google/paligemma2-3b-mix-224: commit " + "0".repeat(40) + ", 2 of 3 files to fetch\n"), s);
        assertTrue(s.contains("  model-00001-of-00002.safetensors (1.00 GB) verified [1/2]\n"), s);
        assertTrue(s.contains("  model-00002-of-00002.safetensors (2.00 GB) verified [2/2]\n"), s);
    }
}
