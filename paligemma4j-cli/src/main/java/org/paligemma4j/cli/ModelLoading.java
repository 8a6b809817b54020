package org.paligemma4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.paligemma4j.PaliGemma;

/** Opens a model for a command, saying so on stderr when asked (large checkpoints take a moment to map and bind). */
final class ModelLoading {
    private ModelLoading() {}

    static PaliGemma open(Path dir, boolean verbose) throws IOException {
        if (verbose) System.err.println("loading " + dir + " …");
        return PaliGemma.open(dir);
    }
}
