package io.mailstream.sinks;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicReader;
import io.mailstream.core.kafka.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Looks keys up in a compacted topic written by streams (mailstream.state, mailstream.streams.content),
 * which has no index by key: the partitions a key hashes to are read from their start to their
 * current end. Meant for repairs, which are rare; one consumer, used by one caller at a time.
 */
final class CompactedTopic implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** Hears each matching record, oldest first, so the last one heard for a key is its current value. */
    @FunctionalInterface
    interface Visitor {
        void visit(String key, byte[] value) throws IOException;
    }

    private final String topic;
    private final KafkaConsumer<String, byte[]> consumer;

    CompactedTopic(String bootstrapServers, String topic) {
        this.topic = topic;
        this.consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrapServers, null),
                new StringDeserializer(),
                new ByteArrayDeserializer());
    }

    /** The partition a keyed record goes to (the producer's default partitioner). */
    synchronized int partitionOf(String key) {
        return Topics.partitionOf(key, consumer.partitionsFor(topic, TIMEOUT).size());
    }

    /** How many partitions the topic has. */
    synchronized int partitions() {
        return consumer.partitionsFor(topic, TIMEOUT).size();
    }

    /** Reads these partitions from their start to their end as of now, handing the records whose key matches to {@code visitor}. */
    synchronized void scan(Collection<Integer> partitions, Predicate<String> keys, Visitor visitor) throws IOException {
        if (partitions.isEmpty()) return;
        List<TopicPartition> tps =
                partitions.stream().map(p -> new TopicPartition(topic, p)).toList();
        try {
            // Progress, not a fixed time, bounds a long scan: only a stall runs out the clock.
            TopicReader.readPartitionsToEndWhileProgressing(consumer, tps, TIMEOUT, r -> {
                if (r.key() == null || !keys.test(r.key())) return;
                try {
                    visitor.visit(r.key(), r.value());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } finally {
            consumer.unsubscribe();
        }
    }

    @Override
    public synchronized void close() {
        consumer.close();
    }
}
