package io.mailstream.sinks;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
        config = MailstreamConfig.of(Map.of("tiers", "dc2,oob", "data.dir", dir.resolve("data").toString(),
                "tier.dc2.type", "cyrus", "tier.dc2.cyrus.address", "127.0.0.1:" + target.csyncPort(),
                "tier.dc2.cyrus.password", "adminpw", "tier.dc2.sessions", "2",
                "tier.oob.type", "store", "tier.oob.store.dir", dir.resolve("oob").toString()));
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
             CsyncClient csync = CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", empty.csyncPort(), "admin", "adminpw"))) {
            StoreReader store = StoreReader.open(dir.resolve("oob"));
            ReplicaWriter writer = new ReplicaWriter(csync, "default");
            for (String user : store.users()) {
                writer.pushUser(store.mailboxes(user), store.userState(user), guid -> {
                    try (StoredBody body = store.openBody(guid.hex())) {
                        return Optional.of(MessageBody.of(body.content().readAllBytes()));
                    }
                }, pushed -> { });
            }
            for (String user : USERS) {
                assertThat(ImapSnapshot.take(source.endpoint(), user).describeDifferences(ImapSnapshot.take(empty.endpoint(), user)))
                        .as("rebuilt %s", user).isNull();
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Mixed sizes, 1 KB to 2 MB, to every user; one message in ten is large. */
    private static void deliver(int from, int count) {
        try (LmtpClient lmtp = primary.endpoint().lmtp()) {
            for (int i = from; i < from + count; i++) {
                String to = USERS.get(i % USERS.size()) + "@mailstream.test";
                int size = i % 10 == 9 ? 2_000_000 : 1_000 + (i * 7919) % 60_000;
                lmtp.deliver("sender@example.org", List.of(to), mail.message(i, size, "sender@example.org", to, "message " + i));
            }
        }
        primary.awaitSyncLogDrained(CyrusInstance.DEFAULT_CHANNEL, DRAIN);
    }

    private static void publishSourceState() throws Exception {
        primary.awaitSyncLogDrained(CyrusInstance.DEFAULT_CHANNEL, DRAIN);
        capture.publish(source.csyncPort(), kafka.bootstrapServers(), USERS, "dc2", "oob");
    }

    private static void assertIdentical(CyrusInstance replica) throws Exception {
        awaitCaughtUp("dc2");
        for (String user : USERS) {
            assertThat(ImapSnapshot.take(source.endpoint(), user).describeDifferences(ImapSnapshot.take(replica.endpoint(), user)))
                    .as("replica of %s", user).isNull();
        }
        try (ImapClient s = source.endpoint().imapAdmin(); ImapClient r = replica.endpoint().imapAdmin()) {
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
        return admin.syncGet("USER " + user).stream().map(b -> new String(b, StandardCharsets.UTF_8))
                .map(l -> l.startsWith("* QUOTA ") ? l.replaceAll(" MODSEQ \\d+", "") : l)
                .map(l -> l.startsWith("* SIEVE ") ? l.replaceAll(" LAST_UPDATE \\d+", "") : l)
                .sorted().toList();
    }

    private static void awaitCaughtUp(String tier) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .until(() -> FeedOffsets.committed(kafka.bootstrapServers(), tier).equals(FeedOffsets.end(kafka.bootstrapServers(), tier)));
    }
}
