package io.mailstream.csync.model;

/**
 * A typed csync failure: thrown by handlers to answer {@code NO <code> <text>}, and by the client
 * when the server answered NO.
 */
public class CsyncException extends Exception {
    private final CsyncError error;

    public CsyncException(CsyncError error) {
        this(error, error.text());
    }

    public CsyncException(CsyncError error, String detail) {
        super(error.code() == null ? detail : error.code() + ": " + detail);
        this.error = error;
    }

    public CsyncException(CsyncError error, String detail, Throwable cause) {
        this(error, detail);
        initCause(cause);
    }

    public CsyncError error() {
        return error;
    }
}
