package io.mailstream.streams;

import io.mailstream.core.control.ControlTopic;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.DeadLetterReason;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.PrimaryAssignment;
import io.mailstream.schemas.codec.AvroCodec;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Decides whether an event's writer may write for its partition key, from the global copy of
 * {@code mailstream.control} (scope -> raw ControlEvent bytes).
 *
 * <p>Scopes: an assignment keyed by the exact partition key wins over the {@code "*"} assignment,
 * so one user can be moved to another primary while every other key follows {@code "*"}.
 * With no assignment for a key at all the event is accepted: a fresh installation has written no
 * control record yet, and refusing everything would make the first start-up lose all changes.
 * Once any assignment covers a key, an event must come from that primary at no older epoch.
 *
 * <p>The global store is updated by its own thread, so an assignment written to the control topic
 * takes effect a few milliseconds later; a promotion must assign the new primary before its
 * capture starts writing (until then its events are dead-lettered as NOT_PRIMARY and can be replayed).
 */
final class Fencing {
    private final ReadOnlyKeyValueStore<String, byte[]> control;
    private final AvroCodec<ControlEvent> codec;

    Fencing(ReadOnlyKeyValueStore<String, byte[]> control, AvroCodec<ControlEvent> codec) {
        this.control = control;
        this.codec = codec;
    }

    /** Throws a {@link Rejection} (STALE_EPOCH or NOT_PRIMARY) when the event's writer is fenced. */
    void check(Envelope envelope) {
        String key = envelope.getPartitionKey();
        String scope = key;
        byte[] raw = control.get(scope);
        if (raw == null) {
            scope = ControlTopic.ALL_KEYS;
            raw = control.get(scope);
        }
        if (raw == null) {
            return; // bootstrap: nobody assigned a primary yet
        }
        PrimaryAssignment current = decode(scope, raw);
        if (envelope.getEpoch() < current.getEpoch()) {
            throw new Rejection(DeadLetterReason.STALE_EPOCH, "epoch " + envelope.getEpoch() + " of "
                    + envelope.getSourceServerId() + " is older than epoch " + current.getEpoch()
                    + " of scope '" + scope + "'");
        }
        if (!envelope.getSourceServerId().equals(current.getServerId())) {
            throw new Rejection(DeadLetterReason.NOT_PRIMARY, envelope.getSourceServerId()
                    + " is not the primary of scope '" + scope + "' (" + current.getServerId()
                    + " is, at epoch " + current.getEpoch() + ")");
        }
    }

    /** Fails closed: an unreadable assignment must not open the gate to every writer. */
    private PrimaryAssignment decode(String scope, byte[] raw) {
        try {
            if (codec.decode(raw).getPayload() instanceof PrimaryAssignment assignment) {
                return assignment;
            }
        } catch (SerializationException e) {
            throw new Rejection(DeadLetterReason.NOT_PRIMARY, "control record of scope '" + scope
                    + "' is undecodable: " + e.getMessage());
        }
        throw new Rejection(DeadLetterReason.NOT_PRIMARY, "control record of scope '" + scope
                + "' is not a primary assignment");
    }
}
