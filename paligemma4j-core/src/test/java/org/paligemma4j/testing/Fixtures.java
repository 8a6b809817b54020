package org.paligemma4j.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the shared golden fixtures live. They are read in place (never copied): the build passes
 * {@code -Dpaligemma.fixtures=<repo>/../shared/fixtures}. A missing folder fails the test loudly,
 * because a parity suite that silently skips proves nothing.
 */
public final class Fixtures {
    private Fixtures() {}

    public static Path root() {
        String prop = System.getProperty("paligemma.fixtures");
        Path p = prop != null ? Path.of(prop) : Path.of("../shared/fixtures");
        if (!Files.isDirectory(p)) {
            p = Path.of("../../shared/fixtures");
        }
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("golden fixtures not found at " + prop
                    + " (expected ../shared/fixtures beside the repository)");
        }
        return p.toAbsolutePath().normalize();
    }

    public static Path path(String first, String... more) {
        return root().resolve(Path.of(first, more));
    }

    public static Path artifacts() {
        String prop = System.getProperty("paligemma.artifacts");
        Path p = prop != null ? Path.of(prop) : root().resolveSibling("artifacts");
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("shared artifacts not found at " + p);
        }
        return p.toAbsolutePath().normalize();
    }

    /** The four tiny models with golden outputs. */
    public static final String[] MODELS = {"paligemma-tiny", "paligemma-tiny-bf16", "paligemma2-tiny", "paligemma2-tiny-bf16"};
}
