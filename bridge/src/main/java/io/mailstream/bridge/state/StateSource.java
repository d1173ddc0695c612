package io.mailstream.bridge.state;

import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.Guid;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.UserState;
import java.util.List;
import java.util.Optional;

/**
 * Somewhere the state of users and their mailboxes can be read from, in the one shape every
 * operation compares or pushes: {@link MailboxState} (header and records) and {@link UserState}
 * (seen, subscriptions, sieve, quotas). Implementations: a live Cyrus over csync
 * ({@link CyrusState}), the out-of-band store, {@code mailstream.state}, a fold of
 * {@code mailstream.changes}. Not thread-safe unless an implementation says so.
 */
public interface StateSource extends AutoCloseable {

    /** What this source is, for messages: "tier dc2", "store /srv/oob", "mailstream.state". */
    String describe();

    /**
     * The partition keys (userids, shared top-level names) this source holds, sorted; a source
     * that cannot list them (a Cyrus over csync) throws {@link UnsupportedOperationException}.
     */
    List<String> users() throws Exception;

    /**
     * The key's live mailboxes (not deleted, header known), by name. With {@code withRecords}
     * false a source may leave the records out (a Cyrus's GET USER has none): the header, with
     * its SYNC_CRCs, is what a first comparison needs.
     */
    List<MailboxState> mailboxes(String partitionKey, boolean withRecords) throws Exception;

    /** One live mailbox with every record (expunged ones still indexed included), by uniqueid; {@code name} helps a source that looks mailboxes up by name. */
    Optional<MailboxState> mailbox(String partitionKey, String uniqueId, String name) throws Exception;

    /**
     * The capture time of the last change to this mailbox the source knows of, deleted or not
     * (a tier that still shows a deleted mailbox must first have applied its delete); empty when
     * the source keeps no such time.
     */
    default java.util.OptionalLong lastChange(String partitionKey, String uniqueId) throws Exception {
        return mailbox(partitionKey, uniqueId, null)
                .map(m -> java.util.OptionalLong.of(m.getLastCaptureTime()))
                .orElse(java.util.OptionalLong.empty());
    }

    /**
     * Every state of this mailbox the source still holds, oldest first (a compacted topic keeps
     * recent versions until it is compacted); by default just the current one.
     */
    default List<MailboxState> versions(String partitionKey, String uniqueId) throws Exception {
        return mailbox(partitionKey, uniqueId, null).map(List::of).orElse(List.of());
    }

    /** The key's seen entries, subscriptions, sieve scripts, quotas and standalone annotations; empty when there are none. */
    Optional<UserState> user(String partitionKey) throws Exception;

    /**
     * Bodies this source cannot supply for {@code mailbox}'s live records: absent, or with
     * {@code verify} also those whose bytes do not hash to their GUID. Empty for a source that
     * keeps no bodies of its own to look at (a Cyrus is checked by its records).
     */
    default List<String> badBodies(MailboxState mailbox, boolean verify) throws Exception {
        return List.of();
    }

    /**
     * Whether the SYNC_CRCs in this source's headers are its own, computed over what it holds (a
     * Cyrus), or copied from the events (a store, {@code mailstream.state}), in which case a
     * comparison computes them from the records.
     */
    default boolean computesOwnCrcs() {
        return false;
    }

    /** The exact bytes of a body, where this source holds them. */
    default Optional<MessageBody> body(Guid guid) throws Exception {
        return Optional.empty();
    }

    @Override
    default void close() throws Exception {}
}
