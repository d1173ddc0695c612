package io.mailstream.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.core.config.MailstreamConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopicsOnBrokerTest {
    @TempDir
    Path dir;

    /** A reader that looks for a key in one partition only must find it where the producer put it. */
    @Test
    void partitionOfIsWhereTheProducerPutsAKeyAndAProgressBoundReadSeesEverything() throws Exception {
        MailstreamConfig config = MailstreamConfig.of(Map.of("tiers", "oob", "tier.oob.type", "store"));
        List<String> keys = List.of("alice", "bob", "carol", "#server", "shared", "user.über", "dave@example.org");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0)) {
            TopicAdmin.ensureTopics(config, kafka.bootstrapServers());
            String feed = Topics.feed("oob");
            try (var producer = new KafkaProducer<>(
                    KafkaClients.producerProps(kafka.bootstrapServers(), null, 1 << 20),
                    new StringSerializer(),
                    new StringSerializer())) {
                for (String key : keys) {
                    int partition = producer.send(new ProducerRecord<>(feed, key, "v"))
                            .get(30, TimeUnit.SECONDS)
                            .partition();
                    assertThat(Topics.partitionOf(key, 3)).as(key).isEqualTo(partition);
                }
            }
            List<String> read = new ArrayList<>();
            try (var consumer = new KafkaConsumer<>(
                    KafkaClients.consumerProps(kafka.bootstrapServers(), null),
                    new StringDeserializer(),
                    new StringDeserializer())) {
                TopicReader.readToEndWhileProgressing(consumer, feed, Duration.ofSeconds(30), r -> read.add(r.key()));
            }
            assertThat(read).containsExactlyInAnyOrderElementsOf(keys);
        }
    }
}
