package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.sinks.Sinks;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.LmtpClient;
import io.mailstream.testkit.MessageFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator does and a user does next, through the whole pipeline (real capture, streams,
 * sinks and Cyrus on both sides): the pipeline converges, the dc2 sink restarts, then users copy
 * and move old messages between folders. Capture sends no body for those (Kafka holds them), the
 * restarted sink has none spooled: the replica must find them itself, as with sync_client.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SinkRestartPipelineTest {
    private static final List<String> USERS = List.of("alice", "bob");
    private static final Duration CONVERGE = Duration.ofMinutes(3);

    @TempDir
    static Path dir;

    static PipelineLab lab;
    static final MessageFactory mail = new MessageFactory(9);

    @BeforeAll
    static void start() throws Exception {
        lab = PipelineLab.forUsers(dir, USERS);
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    @Test
    @Order(1)
    void copiesAndMovesOfOldMessagesAfterASinkRestartConverge() {
        try (ImapClient admin = lab.primary.endpoint().imapAdmin()) {
            for (String user : USERS) admin.create("user." + user);
        }
        deliver(24);
        try (ImapClient alice = lab.primary.endpoint().imap("alice")) {
            alice.create("INBOX.Archive");
            alice.create("INBOX.Other");
            alice.select("INBOX");
            alice.uidCopy("1:2", "INBOX.Other");
        }
        assertReplicaIdentical();

        lab.dc2.close();
        lab.dc2 = Sinks.start(lab.config, lab.kafka.bootstrapServers(), "dc2");
        try (ImapClient alice = lab.primary.endpoint().imap("alice")) {
            alice.select("INBOX");
            alice.uidCopy("3:8", "INBOX.Archive");
            alice.uidMove("9:10", "INBOX.Other");
            alice.select("INBOX.Other");
            alice.uidMove("1", "INBOX.Archive");
        }
        try (ImapClient bob = lab.primary.endpoint().imap("bob")) {
            bob.create("INBOX.Kept");
            bob.select("INBOX");
            bob.uidCopy("1:3", "INBOX.Kept");
        }
        assertReplicaIdentical();
    }

    @Test
    @Order(2)
    void aRestoredMessageWhoseBodyTheReplicaHasUnlinkedConverges() {
        // UID 12 of alice's INBOX is in no other folder. Expunged everywhere, its file unlinked on
        // the replica, then restored on the primary: capture has the body already, so the feed
        // carries none, the replica really lacks it, and the spool let it go long ago.
        try (ImapClient alice = lab.primary.endpoint().imap("alice")) {
            alice.select("INBOX");
            alice.uidStore("12", true, "\\Deleted");
            alice.uidExpunge("12");
        }
        assertReplicaIdentical();
        assertThat(lab.replica.runTool("cyr_expire", "-X", "0").exitCode())
                .as("cyr_expire on the replica")
                .isZero();
        CyrusInstance.ProcessResult restored = lab.primary.runTool("unexpunge", "-u", "user.alice", "12");
        assertThat(restored.exitCode()).as(restored.output()).isZero();
        lab.awaitCaptured();
        lab.awaitTierCaughtUp("dc2");
        // The replica dropped its expunged records with the files; the primary drops its own likewise.
        assertThat(lab.primary.runTool("cyr_expire", "-X", "0").exitCode())
                .as("cyr_expire on the primary")
                .isZero();
        assertReplicaIdentical();
    }

    /** Small messages, and one in eight of 600 KB (several content chunks), alternating users. */
    private static void deliver(int count) {
        try (LmtpClient lmtp = lab.primary.endpoint().lmtp()) {
            for (int i = 0; i < count; i++) {
                String to = USERS.get(i % USERS.size()) + "@mailstream.test";
                int size = i % 8 == 5 ? 600_000 : 1_000 + (i * 7919) % 20_000;
                lmtp.deliver(
                        "sender@example.org",
                        List.of(to),
                        mail.message(i, size, "sender@example.org", to, "message " + i));
            }
        }
    }

    private static void assertReplicaIdentical() {
        lab.assertReplicaIdentical(USERS, CONVERGE);
    }
}
