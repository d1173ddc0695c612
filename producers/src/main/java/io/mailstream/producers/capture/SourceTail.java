package io.mailstream.producers.capture;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.KafkaUnavailableException;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The newest event of one source in each partition of {@code mailstream.changes}, found by
 * reading each partition backwards from its end in growing windows: cheap however long the topic
 * is, as long as the source wrote to each partition recently. A partition it never wrote to is
 * read whole (so is the topic on the first start of a server id, whose shadow is rebuilt from it).
 * Read uncommitted, so that an open transaction of a capture that died counts too (its numbers
 * may still be committed).
 */
final class SourceTail {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final long FIRST_WINDOW = 64;
    private static final long MAX_WINDOW = 65_536;

    private SourceTail() {}

    /** Envelopes of the last event of {@code serverId} per partition that has one. */
    static List<Envelope> latest(String bootstrapServers, SchemaResolver schemas, String serverId) {
        Map<String, Object> props = KafkaClients.consumerProps(bootstrapServers, null);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        List<Envelope> out = new ArrayList<>();
        try (KafkaConsumer<String, ChangeEvent> consumer = new KafkaConsumer<>(
                props, new StringDeserializer(), AvroSerdes.changeEvent(schemas).deserializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(Topics.CHANGES, TIMEOUT).stream()
                    .map(p -> new TopicPartition(Topics.CHANGES, p.partition()))
                    .toList();
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts, TIMEOUT);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, TIMEOUT);
            for (TopicPartition p : parts) {
                latestIn(consumer, p, begin.get(p), end.get(p), serverId).ifPresent(out::add);
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new KafkaUnavailableException("cannot read the tail of " + Topics.CHANGES + " for " + serverId, e);
        }
        return out;
    }

    private static Optional<Envelope> latestIn(
            KafkaConsumer<String, ChangeEvent> consumer, TopicPartition p, long begin, long end, String serverId) {
        consumer.assign(List.of(p));
        long window = FIRST_WINDOW;
        for (long to = end; to > begin; window = Math.min(window * 4, MAX_WINDOW)) {
            long from = Math.max(begin, to - window);
            consumer.seek(p, from);
            Envelope found = null;
            long deadline = System.currentTimeMillis() + TIMEOUT.toMillis();
            while (consumer.position(p) < to) {
                if (System.currentTimeMillis() > deadline) {
                    throw new KafkaUnavailableException("timed out reading " + p + " backwards for " + serverId, null);
                }
                for (ConsumerRecord<String, ChangeEvent> r : consumer.poll(Duration.ofMillis(200))) {
                    ChangeEvent e = r.value();
                    if (r.offset() < to
                            && e != null
                            && serverId.equals(e.getEnvelope().getSourceServerId())) {
                        found = e.getEnvelope();
                    }
                }
            }
            if (found != null) {
                return Optional.of(found);
            }
            to = from;
        }
        return Optional.empty();
    }
}
