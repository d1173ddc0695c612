package io.mailstream.bridge.capture;

import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.MessageRecord;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** What the translation needs to know beyond the command: capture's shadow and the session's staged bodies. */
public interface CaptureContext {
    /** Header of the mailbox the shadow holds under that name (before the command applies). */
    Optional<Mailbox> mailbox(String name);

    /** Every index record the shadow holds for the mailbox (expunged ones included), ascending UID. */
    List<MessageRecord> records(String uniqueId);

    /** GUIDs of the live records the shadow holds under that partition key: their bodies are on its partition. */
    Set<Guid> heldGuids(String partitionKey);

    /** A body staged in this session by APPLY MESSAGE. */
    Optional<MessageFile> staged(Guid guid);
}
