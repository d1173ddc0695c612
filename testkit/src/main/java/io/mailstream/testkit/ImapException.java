package io.mailstream.testkit;

/** A protocol command did not complete with OK (or the connection failed). */
public class ImapException extends RuntimeException {
    public ImapException(String message) {
        super(message);
    }

    public ImapException(String message, Throwable cause) {
        super(message, cause);
    }
}
