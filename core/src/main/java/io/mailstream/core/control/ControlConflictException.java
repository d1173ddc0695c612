package io.mailstream.core.control;

/**
 * A control write lost its compare-and-set: {@code mailstream.control} no longer holds what the
 * writer read (another promotion or bootstrap committed first, or is committing now). Nothing of
 * the losing write was committed; read the control topic again before deciding anything.
 */
public final class ControlConflictException extends RuntimeException {
    public ControlConflictException(String message) {
        super(message);
    }

    public ControlConflictException(String message, Throwable cause) {
        super(message, cause);
    }
}
