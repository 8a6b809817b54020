package org.paligemma4j.cli;

import picocli.CommandLine.Option;

/** How a model-running command reports: streamed text or one JSON object, and timings on request. */
final class OutputOptions {
    @Option(names = "--json", description = "Print one JSON object when done instead of streaming the text.")
    boolean json;

    @Option(names = "--verbose",
            description = "Print loading progress and timings (load, image encode, prefill, tokens/s) to stderr.")
    boolean verbose;
}
