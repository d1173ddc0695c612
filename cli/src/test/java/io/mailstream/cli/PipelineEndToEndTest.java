package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.sinks.StoreReader;
import io.mailstream.testkit.ChildJvm;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapActionScript;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.LmtpClient;
import io.mailstream.testkit.MessageFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
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
 * The whole pipeline between real Cyrus servers: primary -> capture -> Kafka -> streams -> a
 * Cyrus replica sink (dc2) and a store sink (oob). The replica must end identical to the primary
 * and the store must hold the same, after the IMAP action script and 500 deliveries, after the
 * replica's sync_server was down under load, and after the replica's sink was killed mid-batch;
 * and {@code mailstream rebuild --from-store} must turn an empty Cyrus into the same.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineEndToEndTest {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineEndToEndTest.class);
    /** Twenty users receive the LMTP deliveries; alice and bob also run the action script (carol is deleted by it). */
    private static final List<String> RECIPIENTS = IntStream.rangeClosed(1, 20)
            .mapToObj(i -> String.format("user%02d", i))
            .toList();

    private static final List<String> USERS = concat(List.of(ImapActionScript.ALICE, ImapActionScript.BOB), RECIPIENTS);
    private static final Duration CONVERGE = Duration.ofMinutes(5);

    @TempDir
    static Path dir;

    static PipelineLab lab;
    static final MessageFactory mail = new MessageFactory(2026);

    @BeforeAll
    static void start() throws Exception {
        lab = new PipelineLab(dir, PipelineLab.scriptUsers(USERS));
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    @Test
    @Order(1)
    void theReplicaAndTheStoreEndIdenticalToThePrimary() throws Exception {
        new ImapActionScript(lab.primary.endpoint(), 7).runAll();
        try (ImapClient admin = lab.primary.endpoint().imapAdmin()) {
            RECIPIENTS.forEach(u -> admin.create("user." + u));
        }
        deliver(0, 500);
        assertReplicaIdentical();
        assertStoreHoldsTheSame();
    }

    @Test
    @Order(2)
    void aReplicaWhoseSyncServerWasDownUnderLoadCatchesUp() throws Exception {
        lab.replica.stop();
        deliver(500, 60);
        flagAllAndExpungeOne("user03");
        lab.awaitCaptured();
        Thread.sleep(3_000); // the sink fails to connect and backs off meanwhile
        assertThat(lab.dc2.isRunning()).isTrue();
        assertThat(lab.eventsBehind("dc2")).isPositive();
        lab.replica.start();
        assertReplicaIdentical();
    }

    @Test
    @Order(3)
    void aSinkKilledMidBatchAndRestartedDuplicatesNothing() throws Exception {
        lab.dc2.close();
        deliver(560, 80);
        lab.awaitCaptured();
        lab.awaitTierCaughtUp("oob"); // streams has fanned out everything, dc2's feed included
        long backlog = lab.eventsBehind("dc2");
        Path config = lab.configFile();
        // The sink's pause hook: the apply that reaches half the backlog reaches the replica but is
        // never confirmed, nothing more is applied, and the marker appears; then SIGKILL.
        Path paused = dir.resolve("sink-dc2-paused");
        try (ChildJvm first = sinkChild(
                "sink-dc2-first",
                config,
                "-Dmailstream.sink.pause-after-events=" + backlog / 2,
                "-Dmailstream.sink.pause-marker=" + paused)) {
            await().atMost(CONVERGE)
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> Files.exists(paused) || !first.isAlive());
            assertThat(first.isAlive())
                    .as("the first sink paused rather than exited: %s", first.log())
                    .isTrue();
            first.kill(); // SIGKILL: an apply in flight, nothing closed or committed on the way out
        }
        long behindAtKill = lab.eventsBehind("dc2");
        LOG.info("killed the dc2 sink with {} of {} feed events not committed", behindAtKill, backlog);
        assertThat(behindAtKill).as("killed before it had applied everything").isPositive();
        try (ChildJvm second = sinkChild("sink-dc2-second", config)) {
            assertReplicaIdentical();
        }
        try (ImapClient primary = lab.primary.endpoint().imapAdmin();
                ImapClient replica = lab.replica.endpoint().imapAdmin()) {
            for (String user : USERS) {
                assertThat(liveMessages(replica, user))
                        .as("messages of %s on the replica", user)
                        .containsExactlyInAnyOrderElementsOf(liveMessages(primary, user))
                        .doesNotHaveDuplicates();
            }
        }
    }

    @Test
    @Order(4)
    void rebuildFromTheStoreGivesAnEmptyCyrusTheSameMail() throws Exception {
        lab.awaitTierCaughtUp("oob");
        try (CyrusInstance empty = lab.emptyReplica()) {
            Cli cli = new Cli(Map.of());
            Path passwordFile = java.nio.file.Files.createTempFile("rebuild", ".password");
            java.nio.file.Files.writeString(passwordFile, PipelineLab.ADMIN_PASSWORD + "\n");
            int exit = cli.run(
                    "rebuild",
                    "--from-store",
                    lab.storeDir().toString(),
                    "--to",
                    "127.0.0.1:" + empty.csyncPort(),
                    "--auth-password-file",
                    passwordFile.toString());
            assertThat(exit).as(cli.err()).isZero();
            assertThat(cli.out()).contains("rebuild: " + USERS.size() + " users");
            assertThat(SameMail.replicaDifferences(lab.primary.endpoint(), empty.endpoint(), USERS))
                    .isEmpty();
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Mostly 1-40 KB, a few of 1-2 MB, and one in 125 of 5 MB, round robin over the twenty users. */
    private static void deliver(int from, int count) {
        try (LmtpClient lmtp = lab.primary.endpoint().lmtp()) {
            for (int i = from; i < from + count; i++) {
                String to = RECIPIENTS.get(i % RECIPIENTS.size());
                int size =
                        i % 125 == 60 ? 5_000_000 : i % 50 == 10 ? 1_000_000 + i * 1_000 : 1_000 + (i * 7919) % 40_000;
                lmtp.deliver(
                        "sender" + i + "@example.org",
                        List.of(to),
                        mail.message(i, size, "sender" + i + "@example.org", to + "@mailstream.test", "message " + i));
            }
        }
    }

    private static void flagAllAndExpungeOne(String user) {
        try (ImapClient c = lab.primary.endpoint().imap(user)) {
            c.select("INBOX");
            c.uidStore("1:*", true, "\\Flagged");
            c.uidStore("2", true, "\\Deleted");
            c.expunge();
        }
    }

    private static ChildJvm sinkChild(String name, Path config, String... systemProperties) {
        List<String> jvm = new ArrayList<>(List.of("-Xmx512m"));
        jvm.addAll(List.of(systemProperties));
        return ChildJvm.start(
                name,
                jvm,
                Main.class.getName(),
                "running; Ctrl-C stops it",
                Duration.ofSeconds(90),
                "sink",
                "--tier",
                "dc2",
                "--config",
                config.toString());
    }

    /** mailbox/UID/GUID of every record that is not expunged. */
    private static List<String> liveMessages(ImapClient admin, String user) {
        List<String> out = new ArrayList<>();
        for (Mailbox m : SameMail.fullMailboxes(admin, user)) {
            for (MessageRecord r : m.records()) {
                if (!r.isExpunged())
                    out.add(m.name() + "/" + r.uid() + "/" + r.guid().hex());
            }
        }
        return out;
    }

    private static void assertReplicaIdentical() {
        lab.assertReplicaIdentical(USERS, CONVERGE);
    }

    private static void assertStoreHoldsTheSame() throws Exception {
        lab.awaitTierCaughtUp("oob");
        StoreReader store = StoreReader.open(lab.storeDir());
        assertThat(store.users()).containsExactlyInAnyOrderElementsOf(USERS);
        try (ImapClient primary = lab.primary.endpoint().imapAdmin()) {
            assertThat(SameMail.storeDifferences(primary, store, USERS)).isEmpty();
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }
}
