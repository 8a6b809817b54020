package org.paligemma4j.hub;

import java.io.IOException;

/** A Hub download or cache lookup that failed, with a message that says what to do about it. */
public final class HubException extends IOException {
    /** What went wrong, for callers that react differently (a command's exit code, a retry). */
    public enum Reason {
        /** 401/403: gated or private and the token (if any) has no access. */
        ACCESS_DENIED,
        /** 404: no such repository, revision or file. */
        NOT_FOUND,
        /** Offline and the model (or revision) is not in the cache. */
        NOT_CACHED,
        /** A downloaded file does not match the size or SHA-256 the Hub announced. */
        VERIFICATION_FAILED,
        /** The server answered something the Hub never answers (malformed JSON, missing headers, bad sizes). */
        BAD_RESPONSE,
        /** No connection, a timeout, or a transfer that broke and could not be resumed. */
        NETWORK,
        /** The cache folder could not be read or written. */
        CACHE
    }

    private final Reason reason;

    public HubException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public HubException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
