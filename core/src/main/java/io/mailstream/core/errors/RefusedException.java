package io.mailstream.core.errors;

/**
 * A target refused one change for a reason that does not pass by itself (a replica's permanent NO):
 * retried a bounded number of times, then dead-lettered ({@link ErrorPolicy}).
 */
public class RefusedException extends RuntimeException {
    public RefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
