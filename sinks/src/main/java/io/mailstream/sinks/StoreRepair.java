package io.mailstream.sinks;

import io.mailstream.bridge.apply.BodySource;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.Guid;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.content.MessageChunker;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes canonical state into an out-of-band store that differs from it, the way a backfill does
 * ({@link StoreTarget#assertState}): missing bodies, then the mailbox and user state files.
 * Holds the store's LOCK, so it cannot open while the store's sink runs: two writers of one user
 * folder would undo each other's work.
 */
public final class StoreRepair implements AutoCloseable {
    private static final int CHUNK_BYTES = 1 << 20;

    private final StoreTarget target;
    private final BodySource bodies;

    private StoreRepair(StoreTarget target, BodySource bodies) {
        this.target = target;
        this.bodies = bodies;
    }

    /** Opens the store at {@code dir} for repair; fails, naming the LOCK, while a sink writes it. */
    public static StoreRepair open(Path dir, BodySource bodies) throws IOException {
        return new StoreRepair(new StoreTarget(dir.toAbsolutePath()), bodies);
    }

    /** Makes the store hold exactly {@code canonical} (a complete record set) for this mailbox, bodies included. */
    public void mailbox(String partitionKey, MailboxState canonical) throws IOException {
        target.assertState(
                partitionKey, Map.of(canonical.getHeader().getUniqueId(), canonical), Optional.empty(), this::chunks);
    }

    /** Makes the store hold {@code canonical} as the user's seen, subscriptions, sieve and quotas. */
    public void user(String partitionKey, UserState canonical) throws IOException {
        target.assertState(partitionKey, Map.of(), Optional.of(canonical), null);
    }

    private List<MessageContent> chunks(String guid) throws IOException {
        Guid g = Guid.of(guid);
        bodies.prefetch(List.of(g));
        Optional<MessageBody> body = bodies.open(g);
        if (body.isEmpty()) return List.of();
        List<MessageContent> out = new ArrayList<>();
        try (MessageBody b = body.get()) {
            new MessageChunker(CHUNK_BYTES).split(guid, "default", b.open(), b.size(), out::add);
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        target.close();
    }
}
