package io.mailstream.cli;

/** A subcommand that a later issue provides; reported, never pretended. */
public final class NotImplementedException extends RuntimeException {
    /** @param issue the issue that implements it, or null when none is filed yet */
    public NotImplementedException(String what, Integer issue) {
        super("mailstream " + what + ": not implemented yet (" + (issue != null ? "see issue " + issue : "no issue filed yet") + ")");
    }
}
