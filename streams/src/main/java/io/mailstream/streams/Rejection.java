package io.mailstream.streams;

import io.mailstream.core.errors.InvalidEventException;
import io.mailstream.schemas.DeadLetterReason;

/** An event that must not reach any feed, with the dead-letter reason to record. */
final class Rejection extends InvalidEventException {
    private final DeadLetterReason reason;

    Rejection(DeadLetterReason reason, String detail) {
        super(detail);
        this.reason = reason;
    }

    DeadLetterReason reason() {
        return reason;
    }
}
