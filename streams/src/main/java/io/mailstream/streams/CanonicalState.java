package io.mailstream.streams;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.DeadLetterReason;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.state.StateFold;
import java.util.HashMap;
import java.util.Map;

/**
 * What streams adds on top of core's {@link StateFold}: modseqs of a mailbox only move forward,
 * and an event that changes nothing (an upsert identical to the current state) is recognised so
 * that it can be dropped instead of being sent to every tier again.
 */
final class CanonicalState {
    private CanonicalState() {}

    /**
     * The state after {@code event} under {@code stateKey}, or null when the event changes nothing.
     * Throws a MODSEQ_BACKWARDS {@link Rejection} when the event would move a modseq backwards.
     */
    static StateRecord next(String stateKey, StateRecord current, ChangeEvent event) {
        if (stateKey.startsWith(StateFold.mailboxKey(""))) {
            MailboxState before = current == null ? null : (MailboxState) current.getState();
            requireForwardModseqs(before, event.getPayload());
            MailboxState after = StateFold.applyToMailbox(before, event);
            return before != null && sameMailbox(before, after) ? null : new StateRecord(after);
        }
        UserState before = current == null ? null : (UserState) current.getState();
        UserState after = StateFold.applyToUser(before, event);
        return before != null && sameUser(before, after) ? null : new StateRecord(after);
    }

    /**
     * Whether a state may go to mailstream.state. A mailbox without its header is a change in
     * progress (records come before their header, and a mailbox renamed in from another key
     * starts from nothing here): published, a repair or rebuild reading it would take the few
     * records it has for the whole mailbox and drop the rest as expunged.
     */
    static boolean isPublishable(StateRecord record) {
        return !(record.getState() instanceof MailboxState m) || m.getHeader() != null || m.getDeleted();
    }

    private static void requireForwardModseqs(MailboxState before, Object payload) {
        if (before == null || before.getDeleted()) {
            return; // a new (or re-created) mailbox starts its modseqs afresh
        }
        if (payload instanceof MailboxUpsert header
                && before.getHeader() != null
                && header.getHighestModseq() < before.getHeader().getHighestModseq()) {
            throw new Rejection(
                    DeadLetterReason.MODSEQ_BACKWARDS,
                    "mailbox " + header.getUniqueId() + " ("
                            + header.getName() + "): highestModseq " + header.getHighestModseq() + " < current "
                            + before.getHeader().getHighestModseq());
        }
        if (payload instanceof RecordsUpsert upsert) {
            Map<Long, Long> modseqByUid = new HashMap<>();
            for (MessageRecord r : before.getRecords()) {
                modseqByUid.put(r.getUid(), r.getModseq());
            }
            for (MessageRecord r : upsert.getRecords()) {
                Long stored = modseqByUid.get(r.getUid());
                if (stored != null && r.getModseq() < stored) {
                    throw new Rejection(
                            DeadLetterReason.MODSEQ_BACKWARDS,
                            "mailbox " + upsert.getUniqueId() + " ("
                                    + upsert.getMailboxName() + "): uid " + r.getUid() + " modseq " + r.getModseq()
                                    + " < stored " + stored);
                }
            }
        }
    }

    /** Equal apart from the bookkeeping of which event was applied last. */
    private static boolean sameMailbox(MailboxState before, MailboxState after) {
        return MailboxState.newBuilder(after)
                .setLastEventId(before.getLastEventId())
                .setLastCaptureTime(before.getLastCaptureTime())
                .setPartitionKey(before.getPartitionKey())
                .build()
                .equals(before);
    }

    private static boolean sameUser(UserState before, UserState after) {
        return UserState.newBuilder(after)
                .setLastEventId(before.getLastEventId())
                .setLastCaptureTime(before.getLastCaptureTime())
                .build()
                .equals(before);
    }
}
