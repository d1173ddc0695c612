package io.mailstream.core.errors;

/** A target is busy or briefly unable (a replica's IMAP_AGAIN): retried until it passes ({@link ErrorPolicy}). */
public class TransientException extends RuntimeException {
    public TransientException(String message, Throwable cause) {
        super(message, cause);
    }
}
