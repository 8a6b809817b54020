package org.paligemma4j.io;

/**
 * A checkpoint (safetensors, index or config file) that cannot be used. The message always names the
 * file, and the tensor or key where one is involved, and says what is wrong.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
