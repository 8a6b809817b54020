package org.paligemma4j.cli;

import org.paligemma4j.model.KvCachePrecision;
import picocli.CommandLine.Option;

/** {@code --kv-cache f32|bf16}: the KV cache's precision, for every command that generates (a picocli mixin). */
final class KvCacheOption {
    @Option(names = "--kv-cache", paramLabel = "f32|bf16", defaultValue = "f32",
            description = "KV cache precision: f32 (as the reference) or bf16 (half the cache's memory and the bytes each decode "
                    + "step reads from it, which matters at long prompts; results differ slightly) (default: ${DEFAULT-VALUE}).")
    String name;

    /** The --kv-cache precision; a wrong name is a one-line error. */
    KvCachePrecision precision() {
        try {
            return KvCachePrecision.parse(name);
        } catch (IllegalArgumentException e) {
            throw new CliException("--kv-cache: " + e.getMessage());
        }
    }
}
