package io.mailstream.streams;

import static io.mailstream.streams.CommittedReads.committedReader;
import static io.mailstream.streams.CommittedReads.eventIdsByKey;
import static io.mailstream.streams.CommittedReads.latestValues;
import static io.mailstream.streams.CommittedReads.poll;
import static io.mailstream.streams.CommittedReads.readAll;
import static io.mailstream.streams.CommittedReads.readUntil;
import static io.mailstream.streams.Events.record;
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
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.TierProgress;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import io.mailstream.schemas.state.StateFold;
import io.mailstream.testkit.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real application on a real (embedded) broker, run in a child JVM that is killed with
 * SIGKILL while it is processing, then restarted: every feed must end with exactly the events it
 * should have (read_committed: nothing lost, nothing twice) and mailstream.state must equal the
 * state recomputed from mailstream.changes.
 */
class KillAndRestartTest {
    private static final Logger LOG = LoggerFactory.getLogger(KillAndRestartTest.class);
    private static final int USERS = 50;
    private static final int MESSAGES = 65; // 3 setup events + 65 x 3 + rename + expunge = 200 events per user
    private static final AvroCodec<ChangeEvent> CODEC = AvroCodec.changeEvent(SchemaResolver.none());
    private static final AvroCodec<StateRecord> STATE = AvroCodec.stateRecord(SchemaResolver.none());

    @TempDir
    Path dir;

    @Test
    void killedMidStreamThenRestartedLosesNothingAndDuplicatesNothing() throws Exception {
        long t0 = System.nanoTime();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
            String bootstrap = kafka.bootstrapServers();
            Map<String, String> values = StreamsOnBroker.settings(bootstrap, dir.resolve("app"), 3);
            values.put("tiers", "dc2,oob");
            values.put("tier.dc2.type", "store");
            values.put("tier.oob.type", "store");
            values.put("tier.oob.content", "reference");
            values.put("tier.oob.users", "/user0\\d/");
            MailstreamConfig config = MailstreamConfig.of(values);
            Path configFile = ChildJvm.writeProperties(dir.resolve("mailstream.properties"), values);
            TopicAdmin.ensureTopics(config, bootstrap);
            Events.firstPromotion(bootstrap);

            Map<String, List<ChangeEvent>> byUser = workload();
            CompletableFuture<Void> capture = CompletableFuture.runAsync(() -> produce(bootstrap, roundRobin(byUser)));

            List<ConsumerRecord<String, byte[]>> dc2 = new ArrayList<>();
            ChildJvm first = startChild(configFile, "first");
            try (KafkaConsumer<String, byte[]> feed = committedReader(bootstrap, Topics.feed("dc2"))) {
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> poll(feed, dc2) >= 2_000);
            }
            first.kill();
            int atKill = dc2.size();
            LOG.info("killed the first instance with {} events on feed dc2 after {} ms", atKill, millisSince(t0));
            assertThat(atKill).as("killed mid-stream").isLessThan(USERS * 200);
            capture.join();

            ChildJvm second = startChild(configFile, "second");
            try {
                List<ConsumerRecord<String, byte[]>> dc2All = readUntil(bootstrap, Topics.feed("dc2"), USERS * 200);
                LOG.info("feed dc2 complete after {} ms", millisSince(t0));
                List<ConsumerRecord<String, byte[]>> oobAll =
                        readUntil(bootstrap, Topics.feed("oob"), 10 * (200 - MESSAGES));

                assertThat(eventIdsByKey(dc2All)).isEqualTo(expectedFeed(byUser, user -> true, true));
                assertThat(eventIdsByKey(oobAll))
                        .isEqualTo(expectedFeed(byUser, user -> user.matches("user0\\d"), false));
                assertThat(readAll(bootstrap, Topics.DLQ)).isEmpty();

                Map<String, StateRecord> published = latestByKey(readAll(bootstrap, Topics.STATE));
                assertThat(published).hasSize(USERS * 3);
                assertThat(published).isEqualTo(recompute(readAll(bootstrap, Topics.CHANGES)));
                assertConcreteState(published);
                assertContentReferences(bootstrap, byUser.keySet());
                assertStatusReport(config, bootstrap, published);
            } finally {
                second.kill();
            }
        }
        LOG.info("kill-and-restart test took {} ms", millisSince(t0));
    }

    /**
     * dc2's sink has consumed everything and reports one right and one wrong SYNC_CRC, two seconds
     * of capture time behind; oob's sink has not started.
     */
    private static void assertStatusReport(MailstreamConfig config, String bootstrap, Map<String, StateRecord> state)
            throws Exception {
        try (Admin admin = Admin.create(KafkaClients.adminProps(bootstrap));
                KafkaConsumer<String, byte[]> feed = committedReader(bootstrap, Topics.feed("dc2"));
                KafkaProducer<String, TierProgress> producer = new KafkaProducer<>(
                        KafkaClients.producerProps(bootstrap, null, 1 << 20),
                        new StringSerializer(),
                        AvroSerdes.tierProgress().serializer())) {
            Map<TopicPartition, OffsetAndMetadata> consumed = new HashMap<>();
            feed.endOffsets(feed.assignment()).forEach((p, end) -> consumed.put(p, new OffsetAndMetadata(end)));
            admin.alterConsumerGroupOffsets(Topics.sinkGroup("dc2"), consumed)
                    .all()
                    .get();
            long inboxCrc = ((MailboxState) state.get("mailbox:user07-inbox").getState())
                    .getHeader()
                    .getSyncCrc();
            long newestCapture = 1_700_000_000_000L + 200; // Events stamps capture time 1.7e12 + sequence
            producer.send(new ProducerRecord<>(
                            Topics.PROGRESS,
                            Topics.progressKey("dc2", "user07"),
                            TierProgress.newBuilder()
                                    .setTier("dc2")
                                    .setPartitionKey("user07")
                                    .setFeedPartition(0)
                                    .setFeedOffset(0)
                                    .setLastEventId("user07-198")
                                    .setLastSequence(198)
                                    .setLastCaptureTime(newestCapture - 2_000)
                                    .setAppliedTime(1)
                                    .setMailboxSyncCrcs(Map.of("user07-inbox", inboxCrc, "user08-inbox", 42L))
                                    .build()))
                    .get();
        }

        StatusReport report = StatusReport.compute(config, bootstrap);
        StatusReport.TierStatus dc2 = report.tiers().get(0);
        assertThat(dc2.tier()).isEqualTo("dc2");
        assertThat(dc2.eventsBehind()).isZero();
        assertThat(dc2.secondsBehind()).hasValue(2.0);
        assertThat(dc2.differingMailboxes())
                .singleElement()
                .asString()
                .startsWith("user08-inbox (user.user08): canonical ");
        assertThat(dc2.unreportedMailboxes()).isEqualTo(USERS * 2 - 2);
        StatusReport.TierStatus oob = report.tiers().get(1);
        assertThat(oob.eventsBehind()).isGreaterThanOrEqualTo(10 * (200 - MESSAGES));
        assertThat(oob.secondsBehind()).isEmpty();
        assertThat(oob.unreportedMailboxes()).isEqualTo(20);
        assertThat(report.render())
                .contains("tier dc2: 0 events behind, 2.0 s behind, 1 mailboxes differ in SYNC_CRC")
                .contains("differs: user08-inbox")
                .contains("tier oob: ")
                .contains("no progress reported yet");
        LOG.info("status report:\n{}", report.render());
    }

    /**
     * Counted exactly once across the kill: every body a user still holds is referenced by that
     * user, the one expunged (UID 1) no longer is (counted twice, it would still be), and every
     * body is registered as published.
     */
    private static void assertContentReferences(String bootstrap, java.util.Set<String> users) {
        Map<String, byte[]> references = latestValues(bootstrap, Topics.STREAMS_CONTENT_REFERENCES);
        for (String user : users) {
            assertThat(references).as(user + ": the expunged body").containsKey(guid(user, 1) + "|" + user);
            assertThat(references.get(guid(user, 1) + "|" + user))
                    .as(user + ": the expunged body")
                    .isNull();
            for (int k = 2; k <= MESSAGES; k++) {
                assertThat(references.get(guid(user, k) + "|" + user))
                        .as(user + ": body " + k)
                        .isEqualTo(ContentReferences.REFERENCED);
            }
            for (int k = 1; k <= MESSAGES; k++) {
                assertThat(references.get(guid(user, k)))
                        .as(user + ": body " + k + " published")
                        .isNotNull();
            }
        }
    }

    /** Values known from the workload, so the test fails even if the fold itself were wrong. */
    private static void assertConcreteState(Map<String, StateRecord> state) {
        MailboxState inbox = (MailboxState) state.get("mailbox:user07-inbox").getState();
        assertThat(inbox.getHeader().getName()).isEqualTo("user.user07");
        assertThat(inbox.getHeader().getLastUid()).isEqualTo(MESSAGES);
        assertThat(inbox.getHeader().getHighestModseq()).isEqualTo(MESSAGES + 1);
        assertThat(inbox.getRecords()).hasSize(MESSAGES);
        assertThat(inbox.getRecords().get(0).getFlags()).containsExactly(StateFold.EXPUNGED);
        assertThat(inbox.getRecords().get(1).getFlags()).isEmpty();
        assertThat(inbox.getRecords().get(MESSAGES - 1).getGuid()).isEqualTo(guid("user07", MESSAGES));
        assertThat(inbox.getLastEventId()).isEqualTo("user07-200");

        MailboxState renamed = (MailboxState) state.get("mailbox:user42-work").getState();
        assertThat(renamed.getHeader().getUniqueId()).isEqualTo("user42-work");
        assertThat(renamed.getHeader().getName()).isEqualTo("user.user42.Archive");
        assertThat(renamed.getDeleted()).isFalse();

        UserState user = (UserState) state.get("user:user13").getState();
        assertThat(user.getSubscriptions()).containsExactly("user.user13");
    }

    /** Per user: two mailboxes, a subscription, 65 messages (body, record, header), a rename half-way, an expunge. */
    private static Map<String, List<ChangeEvent>> workload() {
        Map<String, List<ChangeEvent>> byUser = new LinkedHashMap<>();
        for (int u = 0; u < USERS; u++) {
            String user = String.format("user%02d", u);
            Events events = new Events(user);
            String inbox = user + "-inbox";
            String work = user + "-work";
            List<ChangeEvent> list = new ArrayList<>();
            list.add(events.mailbox(user, inbox, "INBOX", 0, 1));
            list.add(events.mailbox(user, work, "Work", 0, 1));
            list.add(events.subscribe(user, "INBOX"));
            for (int k = 1; k <= MESSAGES; k++) {
                if (k == 33) {
                    list.add(events.rename(user, work, "Work", "Archive"));
                }
                list.add(events.content(user, guid(user, k)));
                list.add(events.records(user, inbox, "INBOX", record(k, k + 1, guid(user, k))));
                list.add(events.mailbox(user, inbox, "INBOX", k, k + 1));
            }
            list.add(events.expunge(user, inbox, "INBOX", 1L));
            assertThat(list).hasSize(200);
            byUser.put(user, list);
        }
        return byUser;
    }

    private static List<ChangeEvent> roundRobin(Map<String, List<ChangeEvent>> byUser) {
        List<ChangeEvent> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            for (List<ChangeEvent> events : byUser.values()) {
                all.add(events.get(i));
            }
        }
        return all;
    }

    /** As capture does: transactions of 100 events, paced so the application is killed while events still arrive. */
    private static void produce(String bootstrap, List<ChangeEvent> events) {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerProps(bootstrap, "test-capture", 1 << 20),
                new StringSerializer(),
                new ByteArraySerializer())) {
            producer.initTransactions();
            for (int i = 0; i < events.size(); i += 100) {
                producer.beginTransaction();
                for (ChangeEvent e : events.subList(i, Math.min(events.size(), i + 100))) {
                    producer.send(
                            new ProducerRecord<>(Topics.CHANGES, e.getEnvelope().getPartitionKey(), CODEC.encode(e)));
                }
                producer.commitTransaction();
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static ChildJvm startChild(Path configFile, String name) {
        ChildJvm child = ChildJvm.start(
                "kill-and-restart-" + name,
                StreamsChild.class.getName(),
                "RUNNING",
                Duration.ofSeconds(90),
                configFile.toString());
        LOG.info("started the {} streams instance (pid {}, log {})", name, child.pid(), child.log());
        return child;
    }

    private static Map<String, List<String>> expectedFeed(
            Map<String, List<ChangeEvent>> byUser, java.util.function.Predicate<String> users, boolean withContent) {
        Map<String, List<String>> expected = new TreeMap<>();
        byUser.forEach((user, events) -> {
            if (users.test(user)) {
                expected.put(
                        user,
                        events.stream()
                                .filter(e -> withContent || !(e.getPayload() instanceof MessageContent))
                                .map(e -> e.getEnvelope().getEventId())
                                .toList());
            }
        });
        return expected;
    }

    /** The state fold applied to the whole history, partition by partition (a key's events share one). */
    private static Map<String, StateRecord> recompute(List<ConsumerRecord<String, byte[]>> history) {
        Map<String, StateRecord> state = new TreeMap<>();
        for (ConsumerRecord<String, byte[]> r : history) {
            ChangeEvent event = CODEC.decode(r.value());
            String key = StateFold.stateKey(event);
            if (key != null) {
                StateRecord next = CanonicalState.next(key, state.get(key), event);
                if (next != null) {
                    state.put(key, next);
                }
            }
        }
        return state;
    }

    private static Map<String, StateRecord> latestByKey(List<ConsumerRecord<String, byte[]>> records) {
        Map<String, StateRecord> latest = new TreeMap<>();
        records.forEach(r -> latest.put(r.key(), STATE.decode(r.value())));
        return latest;
    }

    static String guid(String user, int k) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-1")
                            .digest((user + "/" + k).getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
