package io.mailstream.csync.dlist;

import java.io.IOException;

/**
 * The byte stream is not valid dlist, or it crossed a configured limit. Syntax errors leave the
 * stream at a point from which {@link DListReader#skipLine()} can resynchronise; limit errors are
 * fatal for the session (as Cyrus 3.6.5+ treats an over-long literal).
 */
public class DListException extends IOException {
    public enum Kind {
        SYNTAX,
        LIMIT
    }

    private final Kind kind;

    public DListException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public boolean isFatal() {
        return kind == Kind.LIMIT;
    }

    static DListException syntax(String message) {
        return new DListException(Kind.SYNTAX, message);
    }

    static DListException limit(String message) {
        return new DListException(Kind.LIMIT, message);
    }
}
