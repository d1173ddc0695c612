package io.mailstream.streams;

import io.mailstream.core.control.ControlTopic;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.DeadLetterReason;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.PrimaryAssignment;
import io.mailstream.schemas.codec.AvroCodec;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Decides whether an event's writer may write, from the global copy of {@code mailstream.control}
 * (key -> raw ControlEvent bytes), by the epoch and tier the event was captured under and where it
 * sits in mailstream.changes, never by who is primary when it happens to be processed:
 * <ul>
 *   <li>its tier must be the one the assignment of its epoch names (else NOT_PRIMARY);</li>
 *   <li>if a later promotion fenced that epoch, the event counts only below the fence point the
 *       promotion recorded (else FENCED): what the old primary's capture committed before the
 *       fence is kept, even when streams reads it long after the promotion;</li>
 *   <li>an epoch no promotion assigned, below the current one, is STALE_EPOCH.</li>
 * </ul>
 * An epoch not in the store yet (before the first promotion, or the global store a moment
 * behind the capture that saw it), or a promotion whose fence point is still pending, makes the
 * event wait ({@link AwaitingControl}): capture writes an epoch only after its assignment is
 * committed, so the answer is on its way, and nothing acknowledged may be dropped for being early.
 */
final class Fencing {
    private final ReadOnlyKeyValueStore<String, byte[]> control;
    private final AvroCodec<ControlEvent> codec;

    /** The control records that judge an event are not in the global store yet: the event waits for them. */
    static final class AwaitingControl extends RuntimeException {
        AwaitingControl(String message) {
            super(message, null, false, false);
        }
    }

    Fencing(ReadOnlyKeyValueStore<String, byte[]> control, AvroCodec<ControlEvent> codec) {
        this.control = control;
        this.codec = codec;
    }

    /**
     * Throws a {@link Rejection} (NOT_PRIMARY, FENCED or STALE_EPOCH) when the event's writer was
     * fenced, {@link AwaitingControl} when that cannot be told yet.
     */
    void check(Envelope envelope, int partition, long offset) {
        long epoch = envelope.getEpoch();
        long current = assignmentAt(ControlTopic.ALL_KEYS)
                .map(PrimaryAssignment::getEpoch)
                .orElse(0L);
        Optional<PrimaryAssignment> at = assignment(epoch, current);
        if (at.isEmpty()) {
            if (epoch > current) {
                throw new AwaitingControl("epoch " + epoch + " of " + source(envelope) + " is not in " + Topics.CONTROL
                        + " yet ("
                        + (current == 0
                                ? "no tier is primary: run 'mailstream promote --tier NAME --initial'"
                                : "current epoch " + current)
                        + ")");
            }
            throw new Rejection(
                    DeadLetterReason.STALE_EPOCH,
                    "epoch " + epoch + " of " + source(envelope) + " was never assigned (current epoch " + current
                            + ")");
        }
        PrimaryAssignment assigned = at.get();
        if (!assigned.getTier().equals(envelope.getTier())) {
            throw new Rejection(
                    DeadLetterReason.NOT_PRIMARY,
                    source(envelope) + " was not the primary at epoch " + epoch + " (tier " + assigned.getTier()
                            + " was)");
        }
        if (epoch >= current) {
            return;
        }
        Optional<PrimaryAssignment> next = assignment(epoch + 1, current);
        if (next.isEmpty() || next.get().getFencePoint() == null && !next.get().getFencePending()) {
            // Written before promotions recorded fence points: the old rule, an older epoch is stale.
            throw new Rejection(
                    DeadLetterReason.STALE_EPOCH,
                    "epoch " + epoch + " of " + source(envelope) + " is older than epoch " + current
                            + ", and no fence point says where it ended");
        }
        if (next.get().getFencePending()) {
            throw new AwaitingControl("the promotion to epoch " + (epoch + 1)
                    + " has not yet recorded where the capture of " + assigned.getTier() + " was fenced");
        }
        List<Long> fencePoint = next.get().getFencePoint();
        long bound = partition < fencePoint.size() ? fencePoint.get(partition) : 0;
        if (offset >= bound) {
            throw new Rejection(
                    DeadLetterReason.FENCED,
                    source(envelope) + " wrote at epoch " + epoch + " after the promotion"
                            + " to epoch " + (epoch + 1) + " fenced it (offset " + offset + " of partition " + partition
                            + ", fence point " + bound + ")");
        }
    }

    private static String source(Envelope envelope) {
        return "tier " + envelope.getTier() + " (capture " + envelope.getSourceServerId() + ")";
    }

    /** The assignment of an epoch: its own record, or the current one for records that predate the per-epoch keys. */
    private Optional<PrimaryAssignment> assignment(long epoch, long current) {
        Optional<PrimaryAssignment> recorded = assignmentAt(ControlTopic.epochKey(epoch));
        if (recorded.isPresent() || epoch != current) {
            return recorded;
        }
        return assignmentAt(ControlTopic.ALL_KEYS);
    }

    /** Fails closed: an unreadable assignment must not open the gate to every writer. */
    private Optional<PrimaryAssignment> assignmentAt(String key) {
        byte[] raw = control.get(key);
        if (raw == null) {
            return Optional.empty();
        }
        try {
            if (codec.decode(raw).getPayload() instanceof PrimaryAssignment assignment) {
                return Optional.of(assignment);
            }
        } catch (SerializationException e) {
            throw new Rejection(
                    DeadLetterReason.NOT_PRIMARY, "control record '" + key + "' is undecodable: " + e.getMessage());
        }
        throw new Rejection(DeadLetterReason.NOT_PRIMARY, "control record '" + key + "' is not a primary assignment");
    }
}
