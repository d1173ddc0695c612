package io.mailstream.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.bridge.apply.ReplicaWriter;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapActionScript;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.ImapSnapshot;
import io.mailstream.testkit.LmtpClient;
import io.mailstream.testkit.MessageFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Cyrus replica sink against real Cyrus 3.6 and a real embedded broker. The source of truth is
 * a real replica kept by Cyrus's own sync_client from a primary that runs the whole IMAP action
 * script and LMTP deliveries; its state, read over csync, is written to the feeds as capture
 * writes it. The sink must make a second, empty Cyrus identical to it (IMAP view and SYNC CRCs), also
 * after its sync_server was down under load; the store tier fed alongside must rebuild a third
 * empty Cyrus into the same state.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CyrusSinkTest {
    /** The script deletes carol in the end. */
    private static final List<String> USERS = List.of(ImapActionScript.ALICE, ImapActionScript.BOB);

    private static final Duration DRAIN = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static CyrusInstance source;
    static CyrusInstance primary;
    static CyrusInstance target;
    static MailstreamConfig config;
    static SinkHandle cyrusSink;
    static SinkHandle storeSink;
    /** The dc2 sink's target once {@link #restartCyrusSink} has run. */
    static CyrusTarget dc2Target;

    static final CyrusStateEvents capture = new CyrusStateEvents();
    static final MessageFactory mail = new MessageFactory(6);

    @BeforeAll
    static void start() {
        CyrusInstance.requireCyrus();
        source = users(CyrusInstance.replica()).start();
        target = users(CyrusInstance.replica()).start();
        primary = users(CyrusInstance.primary()).syncTo(source).start();
        primary.startSyncClient(CyrusInstance.DEFAULT_CHANNEL);
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
        config = MailstreamConfig.of(Map.of(
                "tiers",
                "dc2,oob",
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
                "tier.oob.type",
                "store",
                "tier.oob.store.dir",
                dir.resolve("oob").toString()));
        TopicAdmin.ensureTopics(config, kafka.bootstrapServers());
        cyrusSink = Sinks.start(config, kafka.bootstrapServers(), "dc2");
        storeSink = Sinks.start(config, kafka.bootstrapServers(), "oob");
    }

    private static CyrusInstance.Builder users(CyrusInstance.Builder b) {
        return b.user("alice", "alicepw").user("bob", "bobpw").user("carol", "carolpw");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {cyrusSink, storeSink, kafka, primary, source, target}) {
            try {
                if (c != null) c.close();
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    @Test
    @Order(1)
    void theSinkMakesAnEmptyCyrusIdenticalToTheSource() throws Exception {
        new ImapActionScript(primary.endpoint(), 42).runAll();
        deliver(0, 40);
        publishSourceState();
        assertIdentical(target);
    }

    @Test
    @Order(2)
    void aReplicaDownUnderLoadIsCaughtUpWhenItComesBack() throws Exception {
        target.stop();
        deliver(40, 30);
        try (ImapClient alice = primary.endpoint().imap("alice")) {
            alice.select("INBOX");
            alice.uidStore("1:*", true, "\\Flagged", "$Important");
        }
        publishSourceState();
        Thread.sleep(3_000); // the sink keeps failing and backing off meanwhile
        assertThat(cyrusSink.isRunning()).isTrue();
        target.start();
        assertIdentical(target);
    }

    @Test
    @Order(3)
    void theStoreRebuildsAnEmptyCyrusIntoTheSameState() throws Exception {
        awaitCaughtUp("oob");
        try (CyrusInstance empty = users(CyrusInstance.replica()).start();
                CsyncClient csync =
                        CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", empty.csyncPort(), "admin", "adminpw"))) {
            StoreReader store = StoreReader.open(dir.resolve("oob"));
            ReplicaWriter writer = new ReplicaWriter(csync, "default");
            for (String user : store.users()) {
                writer.pushUser(
                        store.mailboxes(user),
                        store.userState(user),
                        guid -> {
                            try (StoredBody body = store.openBody(guid.hex())) {
                                return Optional.of(MessageBody.of(body.content().readAllBytes()));
                            }
                        },
                        pushed -> {});
            }
            for (String user : USERS) {
                assertThat(ImapSnapshot.take(source.endpoint(), user)
                                .describeDifferences(ImapSnapshot.take(empty.endpoint(), user)))
                        .as("rebuilt %s", user)
                        .isNull();
            }
        }
    }

    @Test
    @Order(4)
    void afterARestartCopiesAndMovesOfOldMessagesConverge() throws Exception {
        restartCyrusSink();
        // Old messages only: their bodies are on the replica, not in the new sink's spool or in
        // the feed, and the source folders are unchanged, so the feed names only the targets.
        try (ImapClient alice = primary.endpoint().imap("alice")) {
            alice.create("INBOX.Restarted");
            alice.create("INBOX.Moved");
            alice.select("INBOX");
            alice.uidCopy("1:6", "INBOX.Restarted");
        }
        try (ImapClient bob = primary.endpoint().imap("bob")) {
            bob.create("INBOX.Kept");
            bob.select("INBOX");
            bob.uidCopy("1:3", "INBOX.Kept");
        }
        publishSourceState();
        assertIdentical(target);

        // A move between two old folders: the target sorts first, so the sink meets it before the source.
        try (ImapClient alice = primary.endpoint().imap("alice")) {
            alice.select("INBOX.Projects");
            alice.uidMove("1:*", "INBOX.Moved");
        }
        publishSourceState();
        assertIdentical(target);
    }

    @Test
    @Order(5)
    void theSinkKeepsNoMailboxStateBetweenChangesAndEvictedUsersStillConverge() throws Exception {
        assertNothingRetained("after catching up");
        try (ImapClient alice = primary.endpoint().imap("alice")) {
            alice.select("INBOX.Restarted");
            alice.uidStore("1:2", true, "\\Answered");
            alice.uidExpunge("3");
            alice.uidCopy("4", "INBOX.Moved");
        }
        publishSourceState();
        assertIdentical(target);
        assertNothingRetained("after catching up again");
    }

    @Test
    @Order(6)
    void aBodyTheReplicaAndTheSpoolLackIsFetchedFromTheContentTopic() throws Exception {
        // As after a lost spool: the dc2 feed carries the records but the bodies only ever reached
        // mailstream.streams.content (one small body, and one of 2 MB in chunks across partitions).
        deliver(78, 2);
        publishSourceState(false);
        assertIdentical(target);
        assertNothingRetained("after fetching from the content topic");
    }

    // ---------------------------------------------------------------- helpers

    /** Once everything is pushed the sink holds no mailbox state in memory and no body in its spool. */
    private static void assertNothingRetained(String when) throws Exception {
        assertThat(dc2Target.retained()).as("held in memory %s", when).isEqualTo(new CyrusTarget.Retained(0, 0, 0));
        try (Stream<Path> files =
                Files.walk(config.dataDir().resolve("sink-dc2").resolve("spool"))) {
            assertThat(files.filter(Files::isRegularFile).toList())
                    .as("spooled %s", when)
                    .isEmpty();
        }
    }

    /** A new sink for dc2, as after a restart of the process: nothing but the spool on disk survives. */
    private static void restartCyrusSink() throws Exception {
        cyrusSink.close();
        dc2Target = CyrusTarget.open(config, kafka.bootstrapServers(), "dc2");
        cyrusSink = new FeedSink(config, kafka.bootstrapServers(), "dc2", dc2Target, new SimpleMeterRegistry()).start();
    }

    /** Mixed sizes, 1 KB to 2 MB, to every user; one message in ten is large. */
    private static void deliver(int from, int count) {
        try (LmtpClient lmtp = primary.endpoint().lmtp()) {
            for (int i = from; i < from + count; i++) {
                String to = USERS.get(i % USERS.size()) + "@mailstream.test";
                int size = i % 10 == 9 ? 2_000_000 : 1_000 + (i * 7919) % 60_000;
                lmtp.deliver(
                        "sender@example.org",
                        List.of(to),
                        mail.message(i, size, "sender@example.org", to, "message " + i));
            }
        }
        primary.awaitSyncLogDrained(CyrusInstance.DEFAULT_CHANNEL, DRAIN);
    }

    private static void publishSourceState() throws Exception {
        publishSourceState(true);
    }

    /**
     * Publishes what changed on the source as capture and streams would: every body also to the
     * content topic (key {@code <guid>/<chunk>}); to the dc2 feed only if {@code bodiesInDc2Feed}.
     */
    private static void publishSourceState(boolean bodiesInDc2Feed) throws Exception {
        primary.awaitSyncLogDrained(CyrusInstance.DEFAULT_CHANNEL, DRAIN);
        capture.publish(
                source.csyncPort(),
                kafka.bootstrapServers(),
                USERS,
                bodiesInDc2Feed ? Set.of() : Set.of("dc2"),
                "dc2",
                "oob");
    }

    private static void assertIdentical(CyrusInstance replica) throws Exception {
        awaitCaughtUp("dc2");
        for (String user : USERS) {
            assertThat(ImapSnapshot.take(source.endpoint(), user)
                            .describeDifferences(ImapSnapshot.take(replica.endpoint(), user)))
                    .as("replica of %s", user)
                    .isNull();
        }
        try (ImapClient s = source.endpoint().imapAdmin();
                ImapClient r = replica.endpoint().imapAdmin()) {
            for (String user : USERS) {
                List<String> onSource = syncGet(s, user);
                assertThat(syncGet(r, user)).as("SYNCGET USER %s", user).isEqualTo(onSource);
            }
        }
    }

    /**
     * GET USER over IMAP, less two values every replica sets itself, Cyrus's own replication
     * included: a quota root's MODSEQ and the script file's LAST_UPDATE (its mtime on the replica).
     */
    private static List<String> syncGet(ImapClient admin, String user) {
        return admin.syncGet("USER " + user).stream()
                .map(b -> new String(b, StandardCharsets.UTF_8))
                .map(l -> l.startsWith("* QUOTA ") ? l.replaceAll(" MODSEQ \\d+", "") : l)
                .map(l -> l.startsWith("* SIEVE ") ? l.replaceAll(" LAST_UPDATE \\d+", "") : l)
                .sorted()
                .toList();
    }

    private static void awaitCaughtUp(String tier) {
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> FeedOffsets.committed(kafka.bootstrapServers(), tier)
                        .equals(FeedOffsets.end(kafka.bootstrapServers(), tier)));
    }
}
