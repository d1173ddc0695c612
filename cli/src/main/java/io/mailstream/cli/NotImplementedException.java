package io.mailstream.cli;

/** A subcommand or role that a later issue provides; reported, never pretended. */
public final class NotImplementedException extends RuntimeException {
    private final String pending;

    /** @param issue the issue that implements it, or null when none is filed yet */
    public NotImplementedException(String what, Integer issue) {
        this(what, issue != null ? "see issue " + issue : "no issue filed yet");
    }

    private NotImplementedException(String what, String pending) {
        super("mailstream " + what + ": not implemented yet (" + pending + ")");
        this.pending = pending;
    }

    /** Where the implementation will come from, e.g. {@code see issue 4}. */
    public String pending() {
        return pending;
    }
}
