package io.mailstream.sinks;

import io.mailstream.schemas.ChangeEvent;
import java.util.List;

/**
 * Where a tier's feed is applied: a Cyrus replica or the out-of-band store. The feed sink calls it
 * from several worker threads, but never for the same partition key twice at once, and always
 * with that key's events in feed order.
 *
 * <p>Contract: {@link #apply} returns only once every event it was given is durable in the target;
 * the sink then counts them as confirmed and may commit their offsets. A throw means none of them
 * is confirmed: the sink classifies the error with {@code ErrorPolicy} (RETRY: the same events
 * again after a back-off; DEAD_LETTER, or RETRY_THEN_DEAD_LETTER after the configured attempts:
 * the events piece by piece, the culprit to the DLQ; STOP). Throw a {@code RefusedException}
 * for a refusal that will not pass by itself, a {@code TransientException} or IOException for one
 * that will.
 * Events may therefore arrive again after a crash or a retry, and must be applied idempotently
 * (every event asserts state: see design.md).
 */
public interface TierTarget extends AutoCloseable {

    /** Applies one partition key's events, in order; what is returned is published as progress. */
    Applied apply(String partitionKey, List<ChangeEvent> events) throws Exception;

    /**
     * The sink gave up on these events of {@code partitionKey} and is about to write them to
     * {@code mailstream.dlq}: they are not applied, and the key's later events will be. A target
     * that can complete what they touched later (from {@code mailstream.state}) notes it durably
     * here; if this throws, the events are not dead-lettered yet and come again. Default: nothing.
     */
    default void deadLettered(String partitionKey, List<ChangeEvent> events) throws Exception {}

    /**
     * Whether a mailbox change counts as applied only with its header (the commit point: capture
     * sends content, then records, then the MailboxUpsert). True: the sink holds a change back until
     * its header has arrived while it can still come, and when it hands over a fragment (the feed
     * ended there, or the sink's buffer is full) it commits no offset past it until the key's next
     * commit point is applied, so the target may keep a fragment in memory and rebuilds it from the
     * feed after a crash. A Cyrus replica needs the whole APPLY MAILBOX at once; a target that
     * makes every event durable by itself says false.
     */
    default boolean needsWholeMailboxChanges() {
        return true;
    }

    @Override
    default void close() throws Exception {}
}
