package io.mailstream.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.TopicReader;
import io.mailstream.core.kafka.Topics;
import io.mailstream.core.metrics.MailstreamMetrics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An event the processor fails on with an exception that is not a {@link Rejection} (here a
 * ClassCastException from a corrupt value in the canonical state store) must not replace the
 * stream thread on the same record forever: after the configured attempts it goes to
 * mailstream.dlq with its reason, and the key's later events, and other keys, go on.
 */
class PoisonEventTest {
    private static final AvroCodec<ChangeEvent> CODEC = AvroCodec.changeEvent(SchemaResolver.none());
    private static final int PARTITIONS = 3;

    @TempDir
    Path dir;

    @Test
    void anEventTheProcessorKeepsFailingOnIsDeadLetteredAfterBoundedAttempts() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
            String bootstrap = kafka.bootstrapServers();
            MailstreamConfig config = MailstreamConfig.of(Map.of(
                    "kafka.bootstrap.servers",
                    bootstrap,
                    "kafka.topic.partitions",
                    String.valueOf(PARTITIONS),
                    "kafka.topic.replication.factor",
                    "1",
                    "kafka.topic.min.insync.replicas",
                    "1",
                    "data.dir",
                    dir.resolve("app").toString(),
                    "tiers",
                    "dc2",
                    "tier.dc2.type",
                    "store",
                    "errors.retry.attempts",
                    "3",
                    "errors.retry.backoff.max.ms",
                    "200"));
            TopicAdmin.ensureTopics(config, bootstrap);
            Events.firstPromotion(bootstrap);
            corruptCanonicalState(bootstrap, "alice", "mailbox:alice-inbox");

            Events alice = new Events("alice");
            Events bob = new Events("bob");
            ChangeEvent poison = alice.mailbox("alice", "alice-inbox", "INBOX", 0, 1);
            ChangeEvent aliceLater = alice.subscribe("alice", "INBOX");
            ChangeEvent bobsMailbox = bob.mailbox("bob", "bob-inbox", "INBOX", 0, 1);
            produce(bootstrap, List.of(poison, aliceLater, bobsMailbox));

            try (MailstreamStreams streams =
                    MailstreamStreams.build(config, bootstrap, Map.of(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100))) {
                streams.start();
                List<String> feed = new ArrayList<>();
                await().atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> {
                            feed.clear();
                            readAll(bootstrap, Topics.feed("dc2"))
                                    .forEach(r -> feed.add(CODEC.decode(r.value())
                                            .getEnvelope()
                                            .getEventId()));
                            assertThat(feed)
                                    .contains(
                                            aliceLater.getEnvelope().getEventId(),
                                            bobsMailbox.getEnvelope().getEventId());
                        });
                assertThat(feed).doesNotContain(poison.getEnvelope().getEventId());
                List<DeadLetter> letters = readAll(bootstrap, Topics.DLQ).stream()
                        .map(r -> AvroSerdes.deadLetter().deserializer().deserialize(Topics.DLQ, r.value()))
                        .toList();
                assertThat(letters).singleElement().satisfies(l -> {
                    assertThat(l.getEventId()).isEqualTo(poison.getEnvelope().getEventId());
                    assertThat(l.getDetail()).contains("ClassCastException", "3 attempts");
                });
                assertThat(MailstreamMetrics.registry()
                                .get("mailstream.errors.retries")
                                .tag("role", "streams")
                                .counter()
                                .count())
                        .as("failed attempts that were retried")
                        .isGreaterThanOrEqualTo(2);
            }
        }
    }

    /** A user's state where the mailbox state belongs, in the changelog the state store is restored from. */
    private static void corruptCanonicalState(String bootstrap, String partitionKey, String stateKey) throws Exception {
        String changelog = "mailstream-streams-" + MailstreamTopology.STATE_STORE + "-changelog";
        try (Admin admin = Admin.create(KafkaClients.adminProps(bootstrap))) {
            admin.createTopics(List.of(new NewTopic(changelog, PARTITIONS, (short) 1)
                            .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
                    .all()
                    .get();
        }
        StateRecord corrupt = new StateRecord(UserState.newBuilder()
                .setUserId(partitionKey)
                .setLastEventId("corrupt")
                .setLastCaptureTime(1L)
                .build());
        // The task of a key's partition in mailstream.changes owns the same partition of the changelog.
        int partition = Utils.toPositive(Utils.murmur2(partitionKey.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerProps(bootstrap, null, 1 << 20),
                new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(
                            changelog,
                            partition,
                            stateKey,
                            AvroCodec.stateRecord(SchemaResolver.none()).encode(corrupt)))
                    .get();
        }
    }

    private static void produce(String bootstrap, List<ChangeEvent> events) {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerProps(bootstrap, "test-capture", 1 << 20),
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

    private static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap, String topic) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrap, null), new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicReader.readToEnd(consumer, topic, Duration.ofSeconds(20), out::add);
        }
        return out;
    }
}
