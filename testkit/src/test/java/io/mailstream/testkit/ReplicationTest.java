package io.mailstream.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.testkit.ImapActionScript.Step;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Real Cyrus: a primary replicating over its default channel to a replica with a rolling sync_client. Runs the
 * whole action script step by step and checks that the replica converges to exactly the primary's state.
 * Fails (not skips) when Cyrus is missing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicationTest {
    private static final Duration DRAIN = Duration.ofSeconds(30);
    private static CyrusInstance replica;
    private static CyrusInstance primary;

    @BeforeAll
    static void start() {
        CyrusInstance.requireCyrus();
        replica = CyrusInstance.replica()
                .user("alice", "alicepw")
                .user("bob", "bobpw")
                .start();
        primary = CyrusInstance.primary()
                .user("alice", "alicepw")
                .user("bob", "bobpw")
                .syncTo(replica)
                .start();
        primary.startSyncClient(CyrusInstance.DEFAULT_CHANNEL);
    }

    @AfterAll
    static void stop() {
        if (primary != null) primary.close();
        if (replica != null) replica.close();
    }

    @Test
    @Order(1)
    void everyScriptStepReplicatesExactly() {
        ImapActionScript script = new ImapActionScript(primary.endpoint(), 42);
        for (Step step : Step.values()) {
            script.run(step);
            primary.awaitSyncLogDrained(CyrusInstance.DEFAULT_CHANNEL, DRAIN);
            for (String user : List.of("alice", "bob")) {
                ImapSnapshot p = ImapSnapshot.take(primary.endpoint(), user);
                ImapSnapshot r = ImapSnapshot.take(replica.endpoint(), user);
                assertThat(p.describeDifferences(r))
                        .as("after %s for %s", step, user)
                        .isNull();
            }
        }
    }

    @Test
    @Order(2)
    void finalStateIsWhatTheScriptDid() {
        ImapSnapshot alice = ImapSnapshot.take(primary.endpoint(), "alice");
        assertThat(alice.entries())
                .as(alice.toString())
                .containsKey("folder INBOX.Projects uidvalidity")
                .doesNotContainKey("folder INBOX.Archive uidvalidity")
                .containsEntry("folder INBOX metadata /private/comment", "alice private note")
                .containsEntry("folder INBOX metadata /shared/comment", "shared note (with \"quotes\")")
                .containsEntry("sieve " + ImapActionScript.SIEVE_SCRIPT_NAME + " active", "true")
                .containsEntry("sieve " + ImapActionScript.SIEVE_SCRIPT_NAME, ImapActionScript.SIEVE_SCRIPT);
        assertThat(alice.entries().get("folder INBOX acl")).as(alice.toString()).contains("bob=lrs");
        assertThat(alice.entries().get("folder INBOX quotaroot INBOX"))
                .as(alice.toString())
                .endsWith("/100000");
        // sieve filed the "project update" delivery and MOVE added uid 1 of INBOX
        assertThat(alice.entries().keySet().stream().filter(k -> k.startsWith("folder INBOX.Projects uid ")))
                .hasSize(4);
        ImapSnapshot bob = ImapSnapshot.take(replica.endpoint(), "bob");
        assertThat(bob.entries().get("folder user.alice uid 2")).contains("\\Seen");
        try (ImapClient admin = replica.endpoint().imapAdmin()) {
            assertThat(admin.list("", "user.carol*")).isEmpty();
        }
    }

    @Test
    @Order(3)
    void syncGetOverImapShowsTheSameCrcOnBothSides() {
        try (ImapClient p = primary.endpoint().imapAdmin();
                ImapClient r = replica.endpoint().imapAdmin()) {
            List<byte[]> onPrimary = p.syncGet("MAILBOXES (user.alice user.alice.Projects)");
            List<byte[]> onReplica = r.syncGet("MAILBOXES (user.alice user.alice.Projects)");
            assertThat(onPrimary).hasSize(2);
            String first = new String(onPrimary.get(0), StandardCharsets.UTF_8);
            assertThat(first).startsWith("* MAILBOX %(UNIQUEID ").contains(" SYNC_CRC ");
            assertThat(onReplica).zipSatisfy(onPrimary, (a, b) -> assertThat(a).isEqualTo(b));
            List<byte[]> user = p.syncGet("USER alice");
            assertThat(user.stream().map(b -> new String(b, StandardCharsets.UTF_8)))
                    .anyMatch(l -> l.startsWith("* QUOTA "))
                    .anyMatch(l -> l.startsWith("* LSUB "));
        }
    }

    @Test
    @Order(4)
    void aStoppedSyncClientLeavesTheLogForLater() throws Exception {
        primary.stopSyncClient(CyrusInstance.DEFAULT_CHANNEL);
        try (ImapClient alice = primary.endpoint().imap("alice")) {
            alice.append(
                    "INBOX",
                    List.of(),
                    null,
                    new MessageFactory(7).message(0, 1500, "x@example.org", "alice@mailstream.test", "while down"));
        }
        assertThat(primary.isSyncLogDrained(CyrusInstance.DEFAULT_CHANNEL)).isFalse();
        assertThat(java.nio.file.Files.readString(primary.syncLogFile(CyrusInstance.DEFAULT_CHANNEL)))
                .contains("APPEND user.alice");
        primary.startSyncClient(CyrusInstance.DEFAULT_CHANNEL);
        primary.awaitSyncLogDrained(CyrusInstance.DEFAULT_CHANNEL, DRAIN);
        assertThat(ImapSnapshot.take(primary.endpoint(), "alice")
                        .describeDifferences(ImapSnapshot.take(replica.endpoint(), "alice")))
                .isNull();
    }
}
