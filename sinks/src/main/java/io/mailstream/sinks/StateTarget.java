package io.mailstream.sinks;

import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.UserState;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A target that can be brought to a partition key's canonical state in one step, without the events
 * that led there: how a tier added later, or one whose feed lost events to retention, is backfilled
 * from {@code mailstream.state} before it follows its feed.
 */
interface StateTarget extends TierTarget {

    /**
     * Makes {@code partitionKey}'s data in the target hold {@code mailboxes} (uniqueid -> state of every
     * mailbox of the key in the canonical state: deleted ones as tombstones, and records whose header
     * has not come yet without one) and {@code user}; returns once that is
     * durable. Events of the feed that the state already reflects may follow: they must leave the
     * same end state, as any replay does.
     *
     * @param bodies the bodies of the live records, or null for a tier that keeps no bodies
     */
    void assertState(String partitionKey, Map<String, MailboxState> mailboxes, Optional<UserState> user, Bodies bodies)
            throws Exception;

    /** Message bodies by GUID, as the content events that carry them. */
    @FunctionalInterface
    interface Bodies {
        /** Every chunk of the body, in order; empty when the source does not hold it. */
        List<MessageContent> chunks(String guid) throws IOException;
    }
}
