package org.paligemma4j.generate;

/** Why a generation ended. */
public enum FinishReason {
    /** An end-of-sequence id or a stop string. */
    STOP,
    /** The maximum number of new tokens. */
    LENGTH,
    /** The caller cancelled it (or its client went away). */
    CANCELLED,
    /** It ran past the engine's per-request time limit. */
    TIMEOUT,
    /** The engine was closed before it finished. */
    SHUTDOWN
}
