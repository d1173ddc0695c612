package io.mailstream.core.errors;

import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.DeadLetterReason;
import java.nio.ByteBuffer;

/** The one shape of a {@code mailstream.dlq} record, whoever writes it (streams in its transaction, a sink with a producer). */
public final class DeadLetters {
    private DeadLetters() {}

    /** The original record's bytes and coordinates, so the culprit can be inspected and applied again. */
    public static DeadLetter of(
            DeadLetterReason reason,
            String detail,
            String sourceTopic,
            int sourcePartition,
            long sourceOffset,
            byte[] key,
            byte[] value,
            String eventId,
            long time) {
        return DeadLetter.newBuilder()
                .setReason(reason)
                .setDetail(detail)
                .setSourceTopic(sourceTopic)
                .setSourcePartition(sourcePartition)
                .setSourceOffset(sourceOffset)
                .setKey(key == null ? null : ByteBuffer.wrap(key))
                .setValue(value == null ? null : ByteBuffer.wrap(value))
                .setEventId(eventId)
                .setTime(time)
                .build();
    }
}
