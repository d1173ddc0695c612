package io.mailstream.core.errors;

/** One event is wrong (cannot be decoded, or breaks an invariant): dead-letter it, keep going. */
public class InvalidEventException extends RuntimeException {
    public InvalidEventException(String message) {
        super(message);
    }

    public InvalidEventException(String message, Throwable cause) {
        super(message, cause);
    }
}
