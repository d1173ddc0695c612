package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicReader;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.mailstream.sinks.StoreReader;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.MessageFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renames that move a mailbox to another partition key, on a real Cyrus primary through capture,
 * the broker, streams, a Cyrus replica and the store: a folder handed to another user (and worked
 * in there), a user renamed ({@code allowusermoves}), a personal folder made shared and back.
 * After each, {@code mailstream.state}, the store and the replica must hold every mailbox whole
 * under its new key and nothing of it under the old one.
 *
 * <p>The users are picked so that every rename crosses partitions of {@code mailstream.changes}
 * (checked below): within one partition streams' state store would hide the problem.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrossKeyRenameTest {
    private static final Logger LOG = LoggerFactory.getLogger(CrossKeyRenameTest.class);
    private static final String ALICE = "alice";
    private static final String CAROL = "carol";
    private static final String DAVE = "dave";
    private static final String FRANK = "frank";
    private static final String SHARED = "shared";
    private static final int PARTITIONS = 3; // PipelineLab's kafka.topic.partitions
    private static final Duration CONVERGE = Duration.ofMinutes(4);

    @TempDir
    static Path dir;

    static PipelineLab lab;
    static final MessageFactory mail = new MessageFactory(1909);
    static int sent;

    @BeforeAll
    static void start() throws Exception {
        assertThat(partition(ALICE))
                .as("alice and dave on different partitions")
                .isNotEqualTo(partition(DAVE));
        assertThat(partition(CAROL))
                .as("carol and frank on different partitions")
                .isNotEqualTo(partition(FRANK));
        assertThat(partition(ALICE))
                .as("alice and shared on different partitions")
                .isNotEqualTo(partition(SHARED));
        Map<String, String> passwords = new LinkedHashMap<>();
        for (String u : List.of(ALICE, CAROL, DAVE, FRANK)) passwords.put(u, u + "pw");
        lab = new PipelineLab(dir, passwords, List.of("allowusermoves: yes"));
        try (ImapClient admin = lab.primary.endpoint().imapAdmin()) {
            for (String u : List.of(ALICE, CAROL, DAVE)) admin.create("user." + u);
            admin.create(SHARED);
            admin.setAcl(SHARED, "anyone", "lrs");
        }
        fill(ALICE, "INBOX", 3);
        fill(ALICE, "Projects", 8);
        fill(ALICE, "Shareme", 6);
        fill(CAROL, "INBOX", 5);
        fill(CAROL, "Work", 4);
        fill(DAVE, "INBOX", 2);
        assertEverywhereTheSame(List.of(ALICE, CAROL, DAVE));
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    @Test
    @Order(1)
    void aFolderHandedToAnotherUserArrivesWholeAndLeavesNothingBehind() {
        renameAsAdmin("user.alice.Projects", "user.dave.Projects");
        assertEverywhereTheSame(List.of(ALICE, DAVE));
        // dave is given the folder and keeps working in it: one new message, one flag
        try (ImapClient admin = lab.primary.endpoint().imapAdmin()) {
            admin.setAcl("user.dave.Projects", DAVE, "lrswipkxtecdan");
        }
        try (ImapClient d = lab.primary.endpoint().imap(DAVE)) {
            d.append("INBOX.Projects", List.of(), null, message(DAVE, 3_000));
            d.select("INBOX.Projects");
            d.uidStore("2", true, "\\Answered");
        }
        assertEverywhereTheSame(List.of(ALICE, DAVE));
    }

    @Test
    @Order(2)
    void aRenamedUserArrivesWholeAndLeavesNothingBehind() {
        renameAsAdmin("user.carol", "user.frank");
        // carol no longer exists: her key must hold nothing, but she cannot log in to be compared over IMAP.
        assertEverywhereTheSame(List.of(FRANK));
    }

    @Test
    @Order(3)
    void aPersonalFolderMadeSharedAndBackIsWholeEachTime() {
        renameAsAdmin("user.alice.Shareme", "shared.Shareme");
        assertEverywhereTheSame(List.of(ALICE));
        renameAsAdmin("shared.Shareme", "user.alice.Shareme");
        assertEverywhereTheSame(List.of(ALICE));
    }

    // ---------------------------------------------------------------- helpers

    private static void renameAsAdmin(String from, String to) {
        try (ImapClient admin = lab.primary.endpoint().imapAdmin()) {
            admin.rename(from, to);
        }
    }

    /** A folder with {@code count} messages (one of 700 KB, more than one content chunk), some flagged, one expunged. */
    private static void fill(String user, String folder, int count) {
        // Without altnamespace a user sees her folders under INBOX.
        String mailbox = folder.equals("INBOX") ? folder : "INBOX." + folder;
        try (ImapClient c = lab.primary.endpoint().imap(user)) {
            if (!folder.equals("INBOX")) {
                c.create(mailbox);
                c.subscribe(mailbox);
            }
            for (int i = 0; i < count; i++) {
                List<String> flags =
                        i % 3 == 0 ? List.of("\\Seen", "\\Flagged") : i % 2 == 0 ? List.of("\\Seen") : List.of();
                c.append(mailbox, flags, mail.date(sent), message(user, i == 1 ? 700_000 : 2_000 + 1_000 * i));
            }
            c.select(mailbox);
            c.uidStore(String.valueOf(count), true, "\\Deleted");
            c.expunge();
        }
    }

    private static byte[] message(String user, int size) {
        int i = sent++;
        return mail.message(i, size, "sender" + i + "@example.org", user + "@mailstream.test", "message " + i);
    }

    private static int partition(String key) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
    }

    /**
     * Waits until the replica (IMAP snapshots and SYNCGET of {@code loginUsers}, FULLMAILBOX of
     * the shared mailboxes), the store and mailstream.state hold what the primary holds, for every
     * partition key of the test; fails with the differences left at the deadline.
     */
    private static void assertEverywhereTheSame(List<String> loginUsers) {
        lab.awaitCaptured();
        List<String> differences = new ArrayList<>();
        try {
            await().atMost(CONVERGE).pollInterval(Duration.ofSeconds(2)).until(() -> {
                differences.clear();
                try {
                    differences.addAll(differences(loginUsers));
                } catch (Exception e) {
                    // e.g. ManageSieve refuses a user whose mailbox has not reached the replica yet
                    differences.add("could not compare: " + e);
                }
                return differences.isEmpty();
            });
        } catch (ConditionTimeoutException e) {
            LOG.info("mailstream.changes, content left out:\n{}", String.join("\n", changes()));
        }
        assertThat(differences)
                .as("replica, store and mailstream.state vs primary")
                .isEmpty();
    }

    private static List<String> differences(List<String> loginUsers) throws Exception {
        List<String> out = new ArrayList<>(
                SameMail.replicaDifferences(lab.primary.endpoint(), lab.replica.endpoint(), loginUsers));
        Map<String, List<Mailbox>> expected = new TreeMap<>();
        try (ImapClient primary = lab.primary.endpoint().imapAdmin();
                ImapClient replica = lab.replica.endpoint().imapAdmin()) {
            for (String user : List.of(ALICE, CAROL, DAVE, FRANK))
                expected.put(user, SameMail.fullMailboxes(primary, user));
            List<Mailbox> shared = new ArrayList<>();
            for (String name : List.of(SHARED, SHARED + ".Shareme")) {
                Optional<Mailbox> p = SameMail.fullMailbox(primary, name);
                p.ifPresent(shared::add);
                Optional<Mailbox> r = SameMail.fullMailbox(replica, name);
                if (!p.equals(r)) {
                    out.add("replica's " + name + ": " + r + "\n  primary: " + p);
                }
            }
            expected.put(SHARED, shared);
        }
        out.addAll(SameMail.storeDifferences(StoreReader.open(lab.storeDir()), expected));
        Map<String, Map<String, MailboxState>> state = liveStateByKey();
        for (String key : expected.keySet()) {
            out.addAll(SameMail.stateDifferences(
                    "mailstream.state", key, expected.get(key), state.getOrDefault(key, Map.of())));
        }
        state.keySet().stream()
                .filter(k -> !expected.containsKey(k))
                .forEach(k -> out.add("mailstream.state has mailboxes under unexpected key " + k + ": "
                        + state.get(k).keySet()));
        return out;
    }

    /** Every change event but message content, for the log when a comparison fails. */
    private static List<String> changes() {
        List<String> out = new ArrayList<>();
        try (SchemaTopicRegistry schemas =
                        new SchemaTopicRegistry(KafkaClients.adminProps(lab.kafka.bootstrapServers()));
                var consumer = new KafkaConsumer<>(
                        KafkaClients.consumerProps(lab.kafka.bootstrapServers(), null),
                        new StringDeserializer(),
                        new ByteArrayDeserializer())) {
            AvroCodec<ChangeEvent> codec = AvroCodec.changeEvent(schemas);
            TopicReader.readToEnd(consumer, Topics.CHANGES, Duration.ofSeconds(30), r -> {
                ChangeEvent e = codec.decode(r.value());
                if (e.getPayload() instanceof MessageContent) return;
                String payload = e.getPayload().toString();
                out.add(r.partition() + "@" + r.offset() + " " + r.key() + " "
                        + e.getEnvelope().getSequence() + " "
                        + e.getPayload().getClass().getSimpleName() + " "
                        + payload.substring(0, Math.min(300, payload.length())));
            });
        }
        return out;
    }

    /** The latest live MailboxState of every mailbox in mailstream.state, by partition key, then uniqueid. */
    private static Map<String, Map<String, MailboxState>> liveStateByKey() {
        Map<String, byte[]> latest = new HashMap<>();
        try (SchemaTopicRegistry schemas =
                        new SchemaTopicRegistry(KafkaClients.adminProps(lab.kafka.bootstrapServers()));
                var consumer = new KafkaConsumer<>(
                        KafkaClients.consumerProps(lab.kafka.bootstrapServers(), null),
                        new StringDeserializer(),
                        new ByteArrayDeserializer())) {
            TopicReader.readToEnd(consumer, Topics.STATE, Duration.ofSeconds(30), r -> latest.put(r.key(), r.value()));
            AvroCodec<StateRecord> codec = AvroCodec.stateRecord(schemas);
            Map<String, Map<String, MailboxState>> out = new TreeMap<>();
            latest.forEach((key, value) -> {
                if (value == null || !(codec.decode(value).getState() instanceof MailboxState m)) return;
                if (m.getDeleted() || m.getHeader() == null) return;
                out.computeIfAbsent(m.getPartitionKey(), k -> new TreeMap<>())
                        .put(m.getHeader().getUniqueId(), m);
            });
            return out;
        }
    }
}
