package io.mailstream.sinks;

import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.state.StateFold;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import org.apache.kafka.clients.CommonClientConfigs;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Looks up one mailbox's canonical state in the compacted {@code mailstream.state} topic (written by
 * streams, keyed {@code mailbox:<uniqueid>}): the complete record set a repair needs. Reads only the
 * partition the key hashes to, from its start; a repair is rare, so nothing is cached.
 */
final class CanonicalStates implements AutoCloseable {
    private final SchemaTopicRegistry schemas;
    private final AvroCodec<StateRecord> codec;
    private final CompactedTopic topic;

    CanonicalStates(String bootstrapServers) {
        this.schemas = new SchemaTopicRegistry(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
        this.codec = AvroCodec.stateRecord(schemas);
        this.topic = new CompactedTopic(bootstrapServers, Topics.STATE);
    }

    Optional<MailboxState> mailbox(String uniqueId) throws Exception {
        String key = StateFold.mailboxKey(uniqueId);
        byte[][] latest = new byte[1][];
        topic.scan(List.of(topic.partitionOf(key)), key::equals, (k, value) -> latest[0] = value);
        if (latest[0] == null) return Optional.empty();
        // Without its header a state is a change in progress, never the complete record set a repair trusts.
        return codec.decode(latest[0]).getState() instanceof MailboxState m && !m.getDeleted() && m.getHeader() != null
                ? Optional.of(m) : Optional.empty();
    }

    @Override
    public void close() {
        topic.close();
        schemas.close();
    }
}
