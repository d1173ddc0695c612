package io.mailstream.sinks;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** A tier sink's committed offsets and its feed's end, to tell when the sink has caught up. */
final class FeedOffsets {
    private FeedOffsets() {}

    /** Offset 0 is left out, as in {@link #end}: a sink's start commits it for an empty partition, which says nothing consumed. */
    static Map<TopicPartition, Long> committed(String bootstrapServers, String tier) throws Exception {
        try (Admin admin = Admin.create(KafkaClients.adminProps(bootstrapServers))) {
            Map<TopicPartition, Long> out = new HashMap<>();
            admin.listConsumerGroupOffsets(Topics.sinkGroup(tier))
                    .partitionsToOffsetAndMetadata()
                    .get()
                    .forEach((tp, om) -> {
                        if (om != null && om.offset() > 0) out.put(tp, om.offset());
                    });
            return out;
        }
    }

    static Map<TopicPartition, Long> end(String bootstrapServers, String tier) {
        try (var consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrapServers, null),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(Topics.feed(tier)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition()))
                    .toList();
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(parts));
            end.values().removeIf(offset -> offset == 0); // nothing to commit on an empty partition
            return end;
        }
    }
}
