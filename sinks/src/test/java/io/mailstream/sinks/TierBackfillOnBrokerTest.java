package io.mailstream.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.mailstream.schemas.state.StateFold;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backfill of a tier that starts with nothing consumed, on the real broker: the state is what
 * streams would have published for {@link MailScript}'s three users (carol deleted), its bodies are
 * in the content topic, and the feeds are empty, so whatever a store ends with came from the state.
 * The tier's user filter and content mode decide what it gets.
 */
class TierBackfillOnBrokerTest {
    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static MailstreamConfig config;
    static final MailScript SCRIPT = MailScript.threeUsers();

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
        config = MailstreamConfig.of(Map.of(
                "tiers",
                "all,ref",
                "data.dir",
                dir.resolve("data").toString(),
                "tier.all.type",
                "store",
                "tier.all.store.dir",
                dir.resolve("all").toString(),
                "tier.ref.type",
                "store",
                "tier.ref.store.dir",
                dir.resolve("ref").toString(),
                "tier.ref.users",
                "/a.*/",
                "tier.ref.content",
                "reference"));
        TopicAdmin.ensureTopics(config, kafka.bootstrapServers());
        publishStateAndContent();
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) kafka.close();
    }

    @Test
    void aNewTierGetsEveryLiveMailboxUserStateAndBodyFromTheState() throws Exception {
        backfill("all");
        StoreReader store = StoreReader.open(dir.resolve("all"));
        assertThat(store.users()).as("carol was deleted").containsExactly("alice", "bob");
        for (String user : List.of("alice", "bob")) {
            assertThat(store.mailboxes(user)).as(user).containsExactlyElementsOf(liveMailboxes(user));
            assertThat(store.userState(user)).contains(SCRIPT.foldUser(user));
            for (String guid : liveGuids(user)) {
                try (StoredBody body = store.openBody(guid)) {
                    assertThat(body.content().readAllBytes()).as(guid).isEqualTo(SCRIPT.bodies.get(guid));
                }
            }
        }
        assertThat(store.mailboxes("carol")).isEmpty();
        Set<String> live = List.of("alice", "bob").stream()
                .flatMap(u -> liveGuids(u).stream())
                .collect(Collectors.toSet());
        assertThat(SCRIPT.bodies.keySet())
                .as("bodies streams has deleted (tombstones in the content topic)")
                .filteredOn(g -> !live.contains(g))
                .isNotEmpty()
                .noneMatch(store::hasBody);
    }

    @Test
    void aReferenceTierGetsOnlyItsUsersAndNoBodies() throws Exception {
        backfill("ref");
        StoreReader store = StoreReader.open(dir.resolve("ref"));
        assertThat(store.users()).containsExactly("alice");
        assertThat(store.mailboxes("alice")).containsExactlyElementsOf(liveMailboxes("alice"));
        assertThat(liveGuids("alice")).isNotEmpty().noneMatch(store::hasBody);
    }

    /** Runs the tier's sink until the backfill has committed a starting offset on every feed partition. */
    private static void backfill(String tier) throws Exception {
        try (SinkHandle sink = Sinks.start(config, kafka.bootstrapServers(), tier, new SimpleMeterRegistry())) {
            assertThat(FeedOffsets.end(kafka.bootstrapServers(), tier))
                    .as("the feed is empty: nothing comes from it")
                    .isEmpty();
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> !Files.exists(dir.resolve("data")
                                    .resolve("sink-" + tier)
                                    .resolve("backfill")
                                    .resolve("plan.properties"))
                            && sinkGroupOffsets(tier) == 3);
            assertThat(sink.isRunning()).isTrue();
        }
    }

    private static int sinkGroupOffsets(String tier) throws Exception {
        try (Admin admin = Admin.create(KafkaClients.adminProps(kafka.bootstrapServers()))) {
            return admin.listConsumerGroupOffsets(Topics.sinkGroup(tier))
                    .partitionsToOffsetAndMetadata()
                    .get()
                    .size();
        }
    }

    private static List<MailboxState> liveMailboxes(String user) {
        return SCRIPT.foldMailboxes(user).values().stream()
                .filter(m -> !m.getDeleted() && m.getHeader() != null)
                .sorted((a, b) ->
                        a.getHeader().getName().compareTo(b.getHeader().getName()))
                .toList();
    }

    private static Set<String> liveGuids(String user) {
        return liveMailboxes(user).stream()
                .flatMap(m -> m.getRecords().stream())
                .filter(r -> !StateFold.isExpunged(r))
                .map(MessageRecord::getGuid)
                .collect(Collectors.toSet());
    }

    /**
     * What streams would have written: the canonical state of every key, every body chunk by
     * {@code <guid>/<index>} (a tombstone after those of bodies no live record references), and probes.
     */
    private static void publishStateAndContent() {
        Map<String, Object> props = KafkaClients.producerProps(kafka.bootstrapServers(), null, 1 << 20);
        try (SchemaTopicRegistry schemas = new SchemaTopicRegistry(props);
                var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            AvroCodec<StateRecord> states = AvroCodec.stateRecord(schemas);
            AvroCodec<ChangeEvent> events = AvroCodec.changeEvent(schemas);
            for (String user : List.of("alice", "bob", "carol")) {
                for (Map.Entry<String, MailboxState> m :
                        SCRIPT.foldMailboxes(user).entrySet()) {
                    send(
                            producer,
                            Topics.STATE,
                            StateFold.mailboxKey(m.getKey()),
                            states.encode(new StateRecord(m.getValue())));
                }
                send(
                        producer,
                        Topics.STATE,
                        StateFold.userKey(user),
                        states.encode(new StateRecord(SCRIPT.foldUser(user))));
            }
            Set<String> live = List.of("alice", "bob").stream()
                    .flatMap(u -> liveGuids(u).stream())
                    .collect(Collectors.toSet());
            for (ChangeEvent e : SCRIPT.events) {
                if (e.getPayload() instanceof MessageContent c) {
                    String chunkKey = Topics.contentChunkKey(c.getGuid(), c.getChunkIndex());
                    send(producer, Topics.STREAMS_CONTENT, chunkKey, events.encode(e));
                    if (!live.contains(c.getGuid())) {
                        send(
                                producer,
                                Topics.STREAMS_CONTENT,
                                chunkKey,
                                null); // deleted by streams: no mail references it
                    }
                }
            }
            // Streams' probes share the topic; they are no bodies.
            for (int p = 0; p < 3; p++) {
                send(producer, Topics.STREAMS_CONTENT, "~probe/0_1/" + p, new byte[8]);
            }
        }
    }

    /** One record at a time: an idempotent producer's first batches to brand-new partitions can otherwise be refused out of order. */
    private static void send(KafkaProducer<byte[], byte[]> producer, String topic, String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value))
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("writing " + key + " to " + topic, e);
        }
    }
}
