package org.paligemma4j.tokenizer;

import java.io.IOException;

/**
 * A tokenizer file is malformed, truncated or uses settings this implementation does not support.
 * The message names the file and, for binary files, the byte offset where reading failed.
 */
public final class TokenizerFormatException extends IOException {
    public TokenizerFormatException(String message) {
        super(message);
    }

    public TokenizerFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
