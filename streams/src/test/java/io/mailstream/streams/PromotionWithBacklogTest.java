package io.mailstream.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.control.ControlTopic;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.DeadLetterReason;
import io.mailstream.schemas.TierRole;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streams judges an event by the epoch and tier it was captured under and by the fence point of
 * the promotion, not by who is primary when it reads it: with a backlog (streams not running)
 * of events the old primary's capture acknowledged, a promotion, then streams starting, every
 * acknowledged event reaches the state and the feeds; only what the fenced capture wrote after
 * the fence goes to the DLQ, as FENCED.
 */
class PromotionWithBacklogTest {
    private static final AvroCodec<ChangeEvent> CODEC = AvroCodec.changeEvent(SchemaResolver.none());

    @TempDir
    Path dir;

    @Test
    void eventsTheOldPrimaryAcknowledgedBeforeAPromotionAreKeptAndOnlyWritesAfterTheFenceAreDeadLettered()
            throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
            String bootstrap = kafka.bootstrapServers();
            MailstreamConfig config = MailstreamConfig.of(Map.of(
                    "kafka.bootstrap.servers",
                    bootstrap,
                    "kafka.topic.partitions",
                    "3",
                    "kafka.topic.replication.factor",
                    "1",
                    "kafka.topic.min.insync.replicas",
                    "1",
                    "data.dir",
                    dir.resolve("app").toString(),
                    "tiers",
                    "oob",
                    "tier.oob.type",
                    "store"));
            TopicAdmin.ensureTopics(config, bootstrap);
            ControlTopic control = new ControlTopic(bootstrap, SchemaResolver.none());
            control.promoteInitial("dc1", "dc1", "test", "first promotion");

            // The backlog: acknowledged by dc1's capture while streams is not running.
            Events dc1 = new Events("dc1").fromTier("dc1").from("dc1-capture", 1);
            List<ChangeEvent> acknowledged = new ArrayList<>();
            for (String user : List.of("alice", "bob", "carol", "dave", "erin", "frank")) {
                acknowledged.add(dc1.mailbox(user, user + "-inbox", "INBOX", 0, 1));
                acknowledged.add(dc1.subscribe(user, "INBOX"));
            }
            commit(bootstrap, ControlTopic.captureTransactionalId("dc1"), acknowledged);

            control.promote("dc2", 1, TierRole.REPLICA, "dc2", "test", "planned");

            // A writer of dc1 that ignores mailstream.control and writes after the fence.
            ChangeEvent afterFence = dc1.subscribe("alice", "Late");
            commit(bootstrap, ControlTopic.captureTransactionalId("dc1"), List.of(afterFence));
            Events dc2 = new Events("dc2").fromTier("dc2").from("dc2-capture", 2);
            ChangeEvent onNewPrimary = dc2.subscribe("alice", "Sent");
            commit(bootstrap, ControlTopic.captureTransactionalId("dc2"), List.of(onNewPrimary));

            try (MailstreamStreams streams =
                    MailstreamStreams.build(config, bootstrap, Map.of(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100))) {
                streams.start();
                Set<String> expected = new java.util.HashSet<>();
                acknowledged.forEach(e -> expected.add(e.getEnvelope().getEventId()));
                expected.add(onNewPrimary.getEnvelope().getEventId());
                await().atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> {
                            assertThat(eventIds(bootstrap, Topics.feed("oob"))).isEqualTo(expected);
                            assertThat(deadLetters(bootstrap)).hasSize(1);
                        });
                DeadLetter letter = deadLetters(bootstrap).get(0);
                assertThat(letter.getReason()).isEqualTo(DeadLetterReason.FENCED);
                assertThat(letter.getEventId())
                        .isEqualTo(afterFence.getEnvelope().getEventId());
                Set<String> stateKeys = CommittedReads.readAll(bootstrap, Topics.STATE).stream()
                        .map(ConsumerRecord::key)
                        .collect(Collectors.toSet());
                for (String user : List.of("alice", "bob", "carol", "dave", "erin", "frank")) {
                    assertThat(stateKeys).contains("user:" + user, "mailbox:" + user + "-inbox");
                }
            }
        }
    }

    private static void commit(String bootstrap, String transactionalId, List<ChangeEvent> events) {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerProps(bootstrap, transactionalId, 1 << 20),
                new StringSerializer(),
                new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (ChangeEvent e : events) {
                producer.send(
                        new ProducerRecord<>(Topics.CHANGES, e.getEnvelope().getPartitionKey(), CODEC.encode(e)));
            }
            producer.commitTransaction();
        }
    }

    private static Set<String> eventIds(String bootstrap, String topic) {
        return CommittedReads.readAll(bootstrap, topic).stream()
                .map(r -> CODEC.decode(r.value()).getEnvelope().getEventId())
                .collect(Collectors.toSet());
    }

    private static List<DeadLetter> deadLetters(String bootstrap) {
        return CommittedReads.readAll(bootstrap, Topics.DLQ).stream()
                .map(r -> AvroSerdes.deadLetter().deserializer().deserialize(Topics.DLQ, r.value()))
                .toList();
    }
}
