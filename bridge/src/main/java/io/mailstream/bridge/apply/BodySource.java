package io.mailstream.bridge.apply;

import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.Guid;
import java.io.IOException;
import java.util.Collection;
import java.util.Optional;

/** Where {@link ReplicaWriter} gets the bodies the replica reports MISSING: a feed spool, a store. */
@FunctionalInterface
public interface BodySource {
    /** The exact bytes of the message with this GUID, or empty when this source does not hold it. */
    Optional<MessageBody> open(Guid guid) throws IOException;

    /**
     * Told before {@link #open} is called for each of these GUIDs, so that a source which must look
     * far for a body (a whole topic) can look for all of them at once.
     */
    default void prefetch(Collection<Guid> guids) throws IOException {}
}
