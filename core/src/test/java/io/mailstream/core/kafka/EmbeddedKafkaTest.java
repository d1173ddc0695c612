package io.mailstream.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.core.config.MailstreamConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaTest {
    @TempDir
    Path dir;

    @Test
    void committedRecordsAndTopicsSurviveARestartOnTheSameFolder() throws Exception {
        MailstreamConfig config = MailstreamConfig.of(Map.of(
                "tiers",
                "dc2,oob",
                "tier.dc2.type",
                "cyrus",
                "tier.dc2.cyrus.address",
                "127.0.0.1:1",
                "tier.oob.type",
                "store"));
        String bootstrap;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0)) {
            bootstrap = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(config, bootstrap);
            try (var producer = new KafkaProducer<>(
                    KafkaClients.producerProps(bootstrap, "test-tx", 1 << 20),
                    new StringSerializer(),
                    new StringSerializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(Topics.CHANGES, "alice", "committed"));
                producer.commitTransaction();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(Topics.CHANGES, "alice", "aborted"));
                producer.flush();
                producer.abortTransaction();
            }
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0)) {
            assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
            try (Admin admin = Admin.create(KafkaClients.adminProps(bootstrap))) {
                assertThat(admin.listTopics().names().get())
                        .contains(
                                Topics.CHANGES,
                                Topics.SCHEMAS,
                                Topics.CONTROL,
                                Topics.STATE,
                                Topics.PROGRESS,
                                Topics.DLQ,
                                Topics.feed("dc2"),
                                Topics.feed("oob"));
                var changes = admin.describeConfigs(List.of(new org.apache.kafka.common.config.ConfigResource(
                                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, Topics.CHANGES)))
                        .all()
                        .get();
                assertThat(changes.values()
                                .iterator()
                                .next()
                                .get("retention.ms")
                                .value())
                        .isEqualTo("-1");
            }
            assertThat(readAll(bootstrap, Topics.CHANGES)).containsExactly("committed");
        }
    }

    private static List<String> readAll(String bootstrap, String topic) {
        List<String> values = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrap, null), new StringDeserializer(), new StringDeserializer())) {
            TopicReader.readToEnd(consumer, topic, Duration.ofSeconds(20), r -> values.add(r.value()));
        }
        return values;
    }
}
