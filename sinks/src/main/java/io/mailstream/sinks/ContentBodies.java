package io.mailstream.sinks;

import io.mailstream.bridge.apply.BodySource;
import io.mailstream.bridge.apply.MessageSpool;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.Guid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Message bodies read from streams' content topic ({@code mailstream.streams.content}) into a
 * scratch spool, for an operation that pushes state without a feed (a repair): each prefetch
 * reads the partitions the GUIDs hash to once.
 */
public final class ContentBodies implements BodySource, AutoCloseable {
    private final ContentTopic topic;
    private final Path scratch;
    private final MessageSpool spool;

    public ContentBodies(String bootstrapServers, Path scratch) throws IOException {
        this.topic = new ContentTopic(bootstrapServers);
        this.scratch = Files.createDirectories(scratch);
        this.spool = new MessageSpool(scratch.resolve("spool"));
    }

    @Override
    public void prefetch(Collection<Guid> guids) throws IOException {
        topic.fetchInto(guids.stream().map(Guid::hex).toList(), spool, scratch.resolve("fetch"));
    }

    @Override
    public Optional<MessageBody> open(Guid guid) throws IOException {
        return spool.open(guid);
    }

    @Override
    public void close() throws IOException {
        spool.close();
        topic.close();
        try (Stream<Path> files = Files.walk(scratch)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
