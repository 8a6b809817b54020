package org.paligemma4j.image;

import java.io.IOException;

/**
 * An image file that cannot be used: unsupported format, corrupt or truncated data, or dimensions
 * above the pixel budget. The message names the file, the format and the problem (with a byte
 * offset where one is known).
 */
public class InvalidImageException extends IOException {

    public InvalidImageException(String message) {
        super(message);
    }

    public InvalidImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
