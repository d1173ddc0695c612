package io.mailstream.core.errors;

/** This process lost its right to write (a newer instance or a newer epoch took over): stop writing. */
public class FencedException extends RuntimeException {
    public FencedException(String message) {
        super(message);
    }

    public FencedException(String message, Throwable cause) {
        super(message, cause);
    }
}
