package io.mailstream.sinks;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.core.state.StateFold;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Looks up one mailbox's canonical state in the compacted {@code mailstream.state} topic (written by
 * streams, keyed {@code mailbox:<uniqueid>}): the complete record set a repair needs. Reads only the
 * partition the key hashes to, from its start; a repair is rare, so nothing is cached.
 */
final class CanonicalStates implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final SchemaTopicRegistry schemas;
    private final AvroCodec<StateRecord> codec;
    private final KafkaConsumer<String, byte[]> consumer;

    CanonicalStates(String bootstrapServers) {
        this.schemas = new SchemaTopicRegistry(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
        this.codec = AvroCodec.stateRecord(schemas);
        this.consumer = new KafkaConsumer<>(KafkaClients.consumerProps(bootstrapServers, null), new StringDeserializer(), new ByteArrayDeserializer());
    }

    synchronized Optional<MailboxState> mailbox(String uniqueId) {
        String key = StateFold.mailboxKey(uniqueId);
        int partitions = consumer.partitionsFor(Topics.STATE, TIMEOUT).size();
        TopicPartition tp = new TopicPartition(Topics.STATE, Topics.partitionOf(key, partitions));
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        long end = consumer.endOffsets(List.of(tp), TIMEOUT).get(tp);
        byte[] latest = null;
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (consumer.position(tp, TIMEOUT) < end) {
            if (System.nanoTime() > deadline) throw new org.apache.kafka.common.errors.TimeoutException("reading " + tp + " to offset " + end);
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                if (key.equals(r.key())) latest = r.value();
            }
        }
        if (latest == null) return Optional.empty();
        // Without its header a state is a change in progress, never the complete record set a repair trusts.
        return codec.decode(latest).getState() instanceof MailboxState m && !m.getDeleted() && m.getHeader() != null
                ? Optional.of(m) : Optional.empty();
    }

    @Override
    public void close() {
        consumer.close();
        schemas.close();
    }
}
