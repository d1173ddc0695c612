package io.mailstream.streams;

import static org.awaitility.Awaitility.await;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaResolver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reading a topic from the start as a sink would (read_committed), for tests on the real broker. */
final class CommittedReads {
    private static final AvroCodec<ChangeEvent> CODEC = AvroCodec.changeEvent(SchemaResolver.none());

    private CommittedReads() {}

    static KafkaConsumer<String, byte[]> committedReader(String bootstrap, String topic) {
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrap, null), new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    /** Event ids per key, in feed order. */
    static Map<String, List<String>> eventIdsByKey(List<ConsumerRecord<String, byte[]>> records) {
        return records.stream()
                .collect(Collectors.groupingBy(
                        ConsumerRecord::key,
                        TreeMap::new,
                        Collectors.mapping(
                                r -> CODEC.decode(r.value()).getEnvelope().getEventId(), Collectors.toList())));
    }

    static int poll(KafkaConsumer<String, byte[]> consumer, List<ConsumerRecord<String, byte[]>> into) {
        consumer.poll(Duration.ofMillis(100)).forEach(into::add);
        return into.size();
    }

    /** Reads until at least {@code expected} committed records, then once more to the end so extras would show. */
    static List<ConsumerRecord<String, byte[]>> readUntil(String bootstrap, String topic, int expected) {
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = committedReader(bootstrap, topic)) {
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> poll(consumer, records) >= expected);
            drainToEnd(consumer, records);
        }
        return records;
    }

    static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap, String topic) {
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = committedReader(bootstrap, topic)) {
            drainToEnd(consumer, records);
        }
        return records;
    }

    /** The latest value of every key of a (compacted) topic as it stands, null for a tombstone. */
    static Map<String, byte[]> latestValues(String bootstrap, String topic) {
        Map<String, byte[]> latest = new java.util.HashMap<>();
        readAll(bootstrap, topic).forEach(r -> latest.put(r.key(), r.value()));
        return latest;
    }

    private static void drainToEnd(KafkaConsumer<String, byte[]> consumer, List<ConsumerRecord<String, byte[]>> into) {
        Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
        while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
            poll(consumer, into);
        }
    }
}
