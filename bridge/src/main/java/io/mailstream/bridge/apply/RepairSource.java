package io.mailstream.bridge.apply;

import io.mailstream.schemas.MailboxState;
import java.util.Optional;

/**
 * The complete canonical state of a mailbox, for a full update after the replica answered
 * IMAP_SYNC_CHECKSUM or IMAP_SYNC_CHANGED. Only with a complete record set may the writer expunge
 * what the replica has and the source does not; without one it leaves such records alone.
 */
@FunctionalInterface
public interface RepairSource {
    Optional<MailboxState> canonical(String uniqueId) throws Exception;
}
