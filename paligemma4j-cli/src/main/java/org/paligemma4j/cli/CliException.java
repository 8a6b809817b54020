package org.paligemma4j.cli;

/** A user-facing failure: printed as one line "paligemma CMD: message", exit code 1, no stack trace. */
final class CliException extends RuntimeException {
    CliException(String message) {
        super(message);
    }
}
