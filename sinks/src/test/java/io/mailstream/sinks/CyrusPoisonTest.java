package io.mailstream.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.TopicReader;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import io.mailstream.schemas.state.StateFold;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.ImapSnapshot;
import io.mailstream.testkit.MessageFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Cyrus 3.6 replica that refuses one mailbox for good: it already holds another mailbox
 * (another uniqueid, with mail) under that name, a split brain, so APPLY MAILBOX gets
 * IMAP_MAILBOX_MOVED, which no retry can change. The
 * sink must dead-letter that change after the configured attempts and go on with the user's other
 * mailboxes and with other users; once an operator removes the conflict, the mailbox's next
 * change replicates it whole.
 */
class CyrusPoisonTest {
    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static CyrusInstance source;
    static CyrusInstance target;
    static final CyrusStateEvents capture = new CyrusStateEvents();
    static final MessageFactory mail = new MessageFactory(9);

    @BeforeAll
    static void start() {
        CyrusInstance.requireCyrus();
        source = CyrusInstance.replica()
                .user("alice", "alicepw")
                .user("bob", "bobpw")
                .start();
        target = CyrusInstance.replica()
                .user("alice", "alicepw")
                .user("bob", "bobpw")
                .start();
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {kafka, source, target}) {
            try {
                if (c != null) c.close();
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    @Test
    void aMailboxTheReplicaRefusesIsDeadLetteredAndEverythingElseReplicates() throws Exception {
        MailstreamConfig config = MailstreamConfig.of(Map.of(
                "tiers",
                "dc2",
                "data.dir",
                dir.resolve("data").toString(),
                "tier.dc2.type",
                "cyrus",
                "tier.dc2.cyrus.address",
                "127.0.0.1:" + target.csyncPort(),
                "tier.dc2.cyrus.password",
                "adminpw",
                "tier.dc2.sessions",
                "2",
                "errors.retry.attempts",
                "3",
                "errors.retry.backoff.max.ms",
                "200"));
        TopicAdmin.ensureTopics(config, kafka.bootstrapServers());
        try (ImapClient admin = source.endpoint().imapAdmin()) {
            admin.create("user.alice");
            admin.create("user.bob");
        }
        append("alice", "INBOX", 0, 2);
        try (ImapClient alice = source.endpoint().imap("alice")) {
            alice.create("INBOX.Work");
        }
        append("alice", "INBOX.Work", 2, 2);
        append("bob", "INBOX", 4, 2);

        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        List<DeadLetter> letters;
        try (SinkHandle sink = Sinks.start(config, kafka.bootstrapServers(), "dc2", metrics)) {
            publish("alice", "bob");
            awaitCaughtUp();

            // Split brain: the replica gets its own user.alice.Blocked with mail in it (an empty one
            // Cyrus would replace), the source another one.
            try (ImapClient onReplica = target.endpoint().imap("alice")) {
                onReplica.create("INBOX.Blocked");
                onReplica.append(
                        "INBOX.Blocked",
                        List.of(),
                        mail.date(99),
                        mail.message(99, 1_000, "sender@example.org", "alice@mailstream.test", "only on the replica"));
            }
            try (ImapClient alice = source.endpoint().imap("alice")) {
                alice.create("INBOX.Blocked");
            }
            append("alice", "INBOX.Blocked", 6, 2);
            append("alice", "INBOX", 8, 1);
            append("alice", "INBOX.Work", 9, 1); // after Blocked in alice's feed order
            append("bob", "INBOX", 10, 1);
            publish("alice", "bob");
            awaitCaughtUp();
            assertThat(sink.isRunning()).isTrue();

            letters = deadLetters();
            assertThat(letters)
                    .as("the refused change")
                    .isNotEmpty()
                    .allSatisfy(l -> assertThat(l.getDetail()).contains("IMAP_MAILBOX_MOVED", "3 attempts"));
            assertThat(letters)
                    .extracting(l -> AvroCodec.changeEvent(SchemaResolver.none())
                            .decode(l.getValue().array())
                            .getPayload())
                    .anySatisfy(p -> assertThat(p)
                            .isInstanceOfSatisfying(
                                    MailboxUpsert.class,
                                    h -> assertThat(h.getName()).isEqualTo("user.alice.Blocked")));
            assertThat(metrics.get("mailstream.errors.retries")
                            .tag("role", "sink dc2")
                            .counter()
                            .count())
                    .isGreaterThanOrEqualTo(2);
            assertThat(withoutBlocked(ImapSnapshot.take(target.endpoint(), "alice")))
                    .as("alice's other mailboxes")
                    .isEqualTo(withoutBlocked(ImapSnapshot.take(source.endpoint(), "alice")));
            assertThat(ImapSnapshot.take(source.endpoint(), "bob")
                            .describeDifferences(ImapSnapshot.take(target.endpoint(), "bob")))
                    .isNull();

            assertThat(ImapSnapshot.take(source.endpoint(), "bob")
                            .describeDifferences(ImapSnapshot.take(target.endpoint(), "bob")))
                    .isNull();
        }

        // The sink restarts (what it folded is gone), the operator removes the clash, and the
        // mailbox's next change carries only its own record, as capture's delta does: the
        // replica must still end with the whole mailbox, from mailstream.state.
        try (ImapClient onReplica = target.endpoint().imap("alice")) {
            onReplica.delete("INBOX.Blocked");
        }
        append("alice", "INBOX.Blocked", 11, 1);
        List<ChangeEvent> alice;
        try (CsyncClient csync =
                CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", source.csyncPort(), "admin", "adminpw"))) {
            alice = new CyrusStateEvents().user(csync, "alice"); // the whole user, as streams' state holds it
        }
        MailboxUpsert blocked = alice.stream()
                .map(ChangeEvent::getPayload)
                .filter(MailboxUpsert.class::isInstance)
                .map(MailboxUpsert.class::cast)
                .filter(h -> h.getName().equals("user.alice.Blocked"))
                .findFirst()
                .orElseThrow();
        publishCanonicalState(alice);
        ChangeEvent records = alice.stream()
                .filter(e -> e.getPayload() instanceof RecordsUpsert r
                        && r.getUniqueId().equals(blocked.getUniqueId()))
                .findFirst()
                .orElseThrow();
        RecordsUpsert newest = RecordsUpsert.newBuilder((RecordsUpsert) records.getPayload())
                .setRecords(((RecordsUpsert) records.getPayload())
                        .getRecords().stream()
                                .filter(r -> r.getUid() == blocked.getLastUid())
                                .toList())
                .build();
        String newGuid = newest.getRecords().get(0).getGuid();
        List<ChangeEvent> delta = new ArrayList<>();
        for (ChangeEvent e : alice) {
            if (e.getPayload() instanceof MessageContent c && c.getGuid().equals(newGuid)) delta.add(e);
        }
        delta.add(ChangeEvent.newBuilder(records).setPayload(newest).build());
        delta.add(alice.stream()
                .filter(e -> e.getPayload() == blocked)
                .findFirst()
                .orElseThrow());
        CyrusStateEvents.produce(kafka.bootstrapServers(), delta, "dc2");
        try (SinkHandle restarted = Sinks.start(config, kafka.bootstrapServers(), "dc2", new SimpleMeterRegistry())) {
            awaitCaughtUp();
            assertThat(ImapSnapshot.take(source.endpoint(), "alice")
                            .describeDifferences(ImapSnapshot.take(target.endpoint(), "alice")))
                    .isNull();
            assertThat(deadLetters())
                    .as("nothing dead-lettered after the operator's fix")
                    .hasSameSizeAs(letters);
        }
    }

    /** What streams would publish to mailstream.state for the user's mailboxes: the fold of their events. */
    private static void publishCanonicalState(List<ChangeEvent> events) throws Exception {
        Map<String, MailboxState> folded = new HashMap<>();
        for (ChangeEvent e : events) {
            String key = StateFold.stateKey(e);
            if (key != null && key.startsWith(StateFold.mailboxKey("")))
                folded.put(key, StateFold.applyToMailbox(folded.get(key), e));
        }
        try (var producer = new KafkaProducer<>(
                KafkaClients.producerProps(kafka.bootstrapServers(), null, 1 << 20),
                new StringSerializer(),
                AvroSerdes.stateRecord().serializer())) {
            for (var entry : folded.entrySet()) {
                producer.send(new ProducerRecord<>(Topics.STATE, entry.getKey(), new StateRecord(entry.getValue())))
                        .get();
            }
        }
    }

    private static void append(String user, String folder, int from, int count) {
        try (ImapClient c = source.endpoint().imap(user)) {
            for (int i = from; i < from + count; i++) {
                c.append(
                        folder,
                        List.of(),
                        mail.date(i),
                        mail.message(
                                i, 2_000 + i * 100, "sender@example.org", user + "@mailstream.test", "message " + i));
            }
        }
    }

    private static Map<String, String> withoutBlocked(ImapSnapshot snapshot) {
        Map<String, String> out = new TreeMap<>(snapshot.entries());
        out.keySet().removeIf(k -> k.contains("Blocked"));
        return out;
    }

    /** The whole state of each user as capture would write it, on the feed. */
    private static void publish(String... users) throws Exception {
        capture.publish(source.csyncPort(), kafka.bootstrapServers(), List.of(users), "dc2");
    }

    private static List<DeadLetter> deadLetters() {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(kafka.bootstrapServers(), null),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicReader.readToEnd(consumer, Topics.DLQ, Duration.ofSeconds(20), out::add);
        }
        return out.stream()
                .map(r -> AvroSerdes.deadLetter().deserializer().deserialize(Topics.DLQ, r.value()))
                .toList();
    }

    private static void awaitCaughtUp() {
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> FeedOffsets.committed(kafka.bootstrapServers(), "dc2")
                        .equals(FeedOffsets.end(kafka.bootstrapServers(), "dc2")));
    }
}
