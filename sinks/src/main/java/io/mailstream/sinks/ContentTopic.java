package io.mailstream.sinks;

import io.mailstream.bridge.apply.MessageSpool;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Message bodies from {@code mailstream.streams.content}, where streams keeps every body some live
 * record references (and for a grace after) as its chunks (key {@code <guid>/<chunkIndex>}, value
 * the content event, compacted; a deleted body's chunks end in tombstones, and the topic also holds
 * streams' probes, {@code ~probe/...}, which are no bodies): the
 * last resort for a body that is neither on the replica nor in the sink's spool (a copy from a
 * mailbox the replica cannot list, a spool lost with its disk). The chunks of a body hash to
 * different partitions; they are parked in files as they are met and then fed to the spool in
 * order, which verifies size and SHA-1 as for feed content.
 */
final class ContentTopic implements AutoCloseable {
    private final SchemaTopicRegistry schemas;
    private final AvroCodec<ChangeEvent> codec;
    private final CompactedTopic topic;

    ContentTopic(String bootstrapServers) {
        this.schemas = new SchemaTopicRegistry(KafkaClients.common(bootstrapServers));
        this.codec = AvroCodec.changeEvent(schemas);
        this.topic = new CompactedTopic(bootstrapServers, Topics.STREAMS_CONTENT);
    }

    /**
     * Puts into {@code spool} every one of these bodies the topic holds whole, reading each
     * partition at most once; {@code scratch} holds the chunks meanwhile. Returns the GUIDs found.
     */
    synchronized Set<String> fetchInto(Collection<String> guids, MessageSpool spool, Path scratch) throws IOException {
        Path dir = Files.createTempDirectory(Files.createDirectories(scratch), "fetch");
        try {
            Set<String> wanted = new HashSet<>(guids);
            Map<String, Integer> chunkCounts = new HashMap<>();
            Set<Integer> scanned = new HashSet<>();
            Set<Integer> first = new HashSet<>();
            for (String guid : wanted) first.add(topic.partitionOf(Topics.contentChunkKey(guid, 0)));
            scan(first, wanted, dir, chunkCounts);
            scanned.addAll(first);
            // The first chunk tells how many there are; their partitions not read yet are read once more.
            Set<Integer> rest = new HashSet<>();
            chunkCounts.forEach((guid, count) -> {
                for (int i = 1; i < count; i++) rest.add(topic.partitionOf(Topics.contentChunkKey(guid, i)));
            });
            rest.removeAll(scanned);
            scan(rest, wanted, dir, chunkCounts);

            Set<String> found = new HashSet<>();
            for (Map.Entry<String, Integer> e : chunkCounts.entrySet()) {
                if (assemble(e.getKey(), e.getValue(), dir, spool)) found.add(e.getKey());
            }
            return found;
        } finally {
            deleteTree(dir);
        }
    }

    private void scan(Set<Integer> partitions, Set<String> wanted, Path dir, Map<String, Integer> chunkCounts)
            throws IOException {
        topic.scan(partitions, key -> wanted.contains(guidOf(key)), (key, value) -> {
            String guid = guidOf(key);
            Path file = dir.resolve(guid).resolve(key.substring(guid.length() + 1));
            if (value == null) {
                Files.deleteIfExists(file); // a tombstone: the chunk is gone
                return;
            }
            if (key.endsWith("/0")) {
                chunkCounts.put(guid, ((MessageContent) codec.decode(value).getPayload()).getChunkCount());
            }
            Files.write(Files.createDirectories(file.getParent()).resolve(file.getFileName()), value);
        });
    }

    /** Feeds the parked chunks to the spool in order; false if one is missing. */
    private boolean assemble(String guid, int count, Path dir, MessageSpool spool) throws IOException {
        for (int i = 0; i < count; i++) {
            if (!Files.exists(dir.resolve(guid).resolve(Integer.toString(i)))) return false;
        }
        for (int i = 0; i < count; i++) {
            byte[] value = Files.readAllBytes(dir.resolve(guid).resolve(Integer.toString(i)));
            spool.accept((MessageContent) codec.decode(value).getPayload());
        }
        return true;
    }

    private static String guidOf(String key) {
        int slash = key.indexOf('/');
        return slash < 0 ? key : key.substring(0, slash);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @Override
    public void close() {
        topic.close();
        schemas.close();
    }
}
