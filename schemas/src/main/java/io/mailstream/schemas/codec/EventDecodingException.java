package io.mailstream.schemas.codec;

import java.util.OptionalLong;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Bytes that are not a decodable mailstream event. A {@link SerializationException} so that Kafka
 * clients and Streams' deserialization handlers treat it as a poison record; {@link #problem()}
 * tells a dead-letter handler which reason to record.
 */
public final class EventDecodingException extends SerializationException {

    /** What was wrong with the bytes. */
    public enum Problem {
        /** Null, too short, or not starting with the single-object marker {@code C3 01}. */
        NOT_SINGLE_OBJECT_ENCODED,
        /** The fingerprint is neither shipped in this jar nor in the schema topic. */
        UNKNOWN_SCHEMA,
        /** The writer schema is a different record type than the one being decoded. */
        WRONG_TYPE,
        /** The writer schema cannot be read as the current schema (an incompatible change). */
        INCOMPATIBLE_SCHEMA,
        /** The body does not match its writer schema (truncated, trailing or corrupt bytes). */
        CORRUPT_BODY
    }

    private final Problem problem;
    private final Long fingerprint;

    EventDecodingException(Problem problem, Long fingerprint, String message, Throwable cause) {
        super(message, cause);
        this.problem = problem;
        this.fingerprint = fingerprint;
    }

    public Problem problem() {
        return problem;
    }

    /** The writer-schema fingerprint from the header, when the header was readable. */
    public OptionalLong fingerprint() {
        return fingerprint == null ? OptionalLong.empty() : OptionalLong.of(fingerprint);
    }
}
