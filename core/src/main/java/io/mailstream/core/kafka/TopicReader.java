package io.mailstream.core.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a whole topic as it stands: from the beginning of every partition up to the end offsets
 * taken when the read starts. For state kept in a topic (control assignments) and for checking
 * what a topic holds; records written during the read may or may not be included.
 */
public final class TopicReader {
    private static final Duration POLL = Duration.ofMillis(200);

    private TopicReader() {}

    /**
     * Assigns {@code consumer} every partition of {@code topic} and hands each record to
     * {@code each}, in partition order. {@code timeout} bounds the metadata calls and then the
     * reading; running out throws {@link KafkaUnavailableException}, as does Kafka's own
     * {@link org.apache.kafka.common.errors.TimeoutException} that the metadata calls may throw.
     */
    public static <K, V> void readToEnd(
            KafkaConsumer<K, V> consumer, String topic, Duration timeout, Consumer<ConsumerRecord<K, V>> each) {
        read(consumer, topic, timeout, false, each);
    }

    /**
     * As {@link #readToEnd}, for a topic too big to bound its whole read (a backfill reads all of
     * {@code mailstream.state} and the content topic): {@code stallTimeout} bounds the metadata calls
     * and then each wait for more records, so only a read that stops moving fails.
     */
    public static <K, V> void readToEndWhileProgressing(
            KafkaConsumer<K, V> consumer, String topic, Duration stallTimeout, Consumer<ConsumerRecord<K, V>> each) {
        read(consumer, topic, stallTimeout, true, each);
    }

    /**
     * As {@link #readToEndWhileProgressing}, for some partitions only (those a key hashes to, for a
     * lookup in a compacted topic that has no index by key).
     */
    public static <K, V> void readPartitionsToEndWhileProgressing(
            KafkaConsumer<K, V> consumer,
            List<TopicPartition> parts,
            Duration stallTimeout,
            Consumer<ConsumerRecord<K, V>> each) {
        read(consumer, parts, stallTimeout, true, each);
    }

    private static <K, V> void read(
            KafkaConsumer<K, V> consumer,
            String topic,
            Duration timeout,
            boolean whileProgressing,
            Consumer<ConsumerRecord<K, V>> each) {
        List<TopicPartition> parts = consumer.partitionsFor(topic, timeout).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
        read(consumer, parts, timeout, whileProgressing, each);
    }

    private static <K, V> void read(
            KafkaConsumer<K, V> consumer,
            List<TopicPartition> parts,
            Duration timeout,
            boolean whileProgressing,
            Consumer<ConsumerRecord<K, V>> each) {
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        Map<TopicPartition, Long> end = consumer.endOffsets(parts, timeout);
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
            if (System.currentTimeMillis() > deadline) {
                throw new KafkaUnavailableException("timed out reading " + parts, null);
            }
            var records = consumer.poll(POLL);
            records.forEach(each);
            if (whileProgressing && !records.isEmpty()) deadline = System.currentTimeMillis() + timeout.toMillis();
        }
    }
}
