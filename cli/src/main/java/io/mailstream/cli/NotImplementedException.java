package io.mailstream.cli;

/** A subcommand that is not built yet; reported, never pretended. */
public final class NotImplementedException extends RuntimeException {
    public NotImplementedException(String what) {
        super("mailstream " + what + ": not implemented yet");
    }
}
