package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.bridge.apply.MailboxTranslation;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.crc.SyncCrc;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.schemas.MailboxState;
import io.mailstream.sinks.CanonicalStates;
import io.mailstream.sinks.Sinks;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.ImapSnapshot;
import io.mailstream.testkit.LmtpClient;
import io.mailstream.testkit.MessageFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mailstream check} on a converged pipeline between real Cyrus servers: a replica damaged
 * behind mailstream's back (over IMAP), one kind of damage per case, is found (exit 3, naming the
 * mailbox or user and what differs), {@code check --repair} fixes it, and then check exits 0 and
 * the replica's IMAP snapshot equals the primary's. Damage to the store is found too.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CheckRepairTest {
    private static final List<String> USERS = List.of("alice", "bob");
    private static final Duration CONVERGE = Duration.ofMinutes(5);

    @TempDir
    static Path dir;

    static PipelineLab lab;
    static Path config;

    @BeforeAll
    static void start() throws Exception {
        lab = PipelineLab.forUsers(dir, USERS);
        MessageFactory mail = new MessageFactory(7);
        try (ImapClient admin = lab.primary.endpoint().imapAdmin()) {
            for (String u : USERS) {
                admin.create("user." + u);
                admin.create("user." + u + ".Work");
                admin.setQuota("user." + u, Map.of("STORAGE", 100_000L));
            }
        }
        try (LmtpClient lmtp = lab.primary.endpoint().lmtp()) {
            for (int i = 0; i < 12; i++) {
                String u = USERS.get(i % 2);
                lmtp.deliver(
                        "sender@example.org",
                        List.of(u),
                        mail.message(i, 2000 + 300 * i, "sender@example.org", u, "m" + i));
            }
        }
        for (String u : USERS) {
            try (ImapClient imap = lab.primary.endpoint().imap(u)) {
                imap.subscribe("INBOX.Work");
                imap.select("INBOX");
                imap.uidStore("1", true, "\\Seen", "\\Flagged");
                imap.uidCopy("2", "INBOX.Work");
                imap.setMetadata("INBOX.Work", "/private/comment", "work things");
            }
        }
        lab.assertReplicaIdentical(USERS, CONVERGE);
        lab.awaitTierCaughtUp("dc2");
        lab.awaitTierCaughtUp("oob");
        config = lab.configFile();
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    /** One run of the check command: its exit code and what it printed. */
    private record Run(int code, String out, String err) {}

    private static Run check(String... args) {
        Cli cli = new Cli(Map.of());
        Stream<String> settle = List.of(args).contains("--settle") ? Stream.of() : Stream.of("--settle", "60");
        String[] all = Stream.of(Stream.of("check", "--config", config.toString()), settle, Stream.of(args))
                .flatMap(a -> a)
                .toArray(String[]::new);
        int code = cli.run(all);
        return new Run(code, cli.out(), cli.err());
    }

    private static int exit(Run run) {
        return run.code();
    }

    @Test
    @Order(1)
    void aConvergedSystemChecksClean() {
        Run cli = check();
        assertThat(exit(cli)).as("%s%s", cli.out(), cli.err()).isEqualTo(0);
        assertThat(cli.out())
                .contains("tier dc2: ")
                .contains("tier oob: ")
                .contains("tier primary-1: ")
                .doesNotContain("differs:");
    }

    /** The canonical SYNC_CRC (the header capture stored) is the one Cyrus computes and reports, and the one SyncCrc computes from the records. */
    @Test
    @Order(2)
    void theCanonicalSyncCrcIsWhatCyrusReports() throws Exception {
        try (CanonicalStates canonical = new CanonicalStates(lab.kafka.bootstrapServers());
                CsyncClient replica = CsyncClient.connect(
                        CsyncClientConfig.of("127.0.0.1", lab.replica.csyncPort(), "admin", PipelineLab.ADMIN_PASSWORD)
                                .withSieveMailbox(true))) {
            int compared = 0;
            for (String u : USERS) {
                for (MailboxState header : canonical.mailboxes(u, false)) {
                    MailboxState full =
                            canonical.mailbox(header.getHeader().getUniqueId()).orElseThrow();
                    SyncCrc.Pair computed = SyncCrc.of(full.getRecords().stream()
                            .map(MailboxTranslation::toRecord)
                            .toList());
                    Mailbox cyrus = null;
                    for (CsyncReply r : replica.execute(new CsyncCommand.GetMailboxes(
                            List.of(full.getHeader().getName())))) {
                        if (r instanceof CsyncReply.MailboxReply m) cyrus = m.mailbox();
                    }
                    assertThat(cyrus).as(full.getHeader().getName()).isNotNull();
                    assertThat(full.getHeader().getSyncCrc())
                            .as("header vs records, %s", full.getHeader().getName())
                            .isEqualTo(computed.basic());
                    assertThat(full.getHeader().getSyncCrcAnnot()).isEqualTo(computed.annot());
                    assertThat(cyrus.syncCrc())
                            .as("Cyrus vs canonical, %s", full.getHeader().getName())
                            .isEqualTo(computed.basic());
                    assertThat(cyrus.syncCrcAnnot()).isEqualTo(computed.annot());
                    compared++;
                }
            }
            assertThat(compared).isGreaterThanOrEqualTo(4);
        }
    }

    @Test
    @Order(3)
    void anExpungedMessageIsFoundAndRepaired() {
        damageAndRepair(
                imap("alice", c -> {
                    c.select("INBOX");
                    c.uidStore("3", true, "\\Deleted");
                    c.uidExpunge("3");
                }),
                "user.alice ",
                "RECORD UID 3 missing on the tier");
    }

    @Test
    @Order(4)
    void changedFlagsAreFoundAndRepaired() {
        damageAndRepair(
                imap("bob", c -> {
                    c.select("INBOX");
                    c.uidStore("1", false, "\\Flagged");
                    c.uidStore("2", true, "\\Seen");
                }),
                "user.bob ",
                "flags canonical");
    }

    @Test
    @Order(5)
    void aDeletedFolderIsFoundAndRepaired() {
        damageAndRepair(imap("alice", c -> c.delete("INBOX.Work")), "user.alice.Work", "MAILBOX");
    }

    @Test
    @Order(6)
    void anExtraFolderIsReportedAndRemovedOnlyWhenAsked() {
        imap("bob", c -> c.create("INBOX.Stray")).run();
        Run found = check("--tier", "dc2");
        assertThat(exit(found)).as(found.out()).isEqualTo(3);
        assertThat(found.out()).contains("user.bob.Stray").contains("EXTRA_MAILBOX");
        Run kept = check("--tier", "dc2", "--repair");
        assertThat(exit(kept))
                .as("an extra folder is only removed with --delete-extra: %s%s", kept.out(), kept.err())
                .isEqualTo(3);
        Run removed = check("--tier", "dc2", "--repair", "--delete-extra");
        assertThat(exit(removed)).as(removed.out() + removed.err()).isEqualTo(0);
        assertClean();
    }

    @Test
    @Order(7)
    void aRemovedSubscriptionIsFoundAndRepaired() {
        damageAndRepair(imap("alice", c -> c.unsubscribe("INBOX.Work")), "alice: USER", "subscriptions canonical");
    }

    @Test
    @Order(8)
    void aChangedAnnotationIsFoundAndRepaired() {
        damageAndRepair(
                imap("bob", c -> c.setMetadata("INBOX.Work", "/private/comment", "tampered")),
                "user.bob.Work",
                "annotations canonical");
    }

    @Test
    @Order(9)
    void aChangedQuotaIsFoundAndRepaired() {
        damageAndRepair(
                () -> {
                    try (ImapClient admin = lab.replica.endpoint().imapAdmin()) {
                        admin.setQuota("user.bob", Map.of("STORAGE", 5L));
                    }
                },
                "bob: USER",
                "quotas canonical");
    }

    @Test
    @Order(10)
    void aDeletedBodyInTheStoreIsFound() throws IOException {
        Path body;
        try (Stream<Path> files = Files.walk(lab.storeDir().resolve("bodies"))) {
            body = files.filter(p -> p.toString().endsWith(".gz")).findFirst().orElseThrow();
        }
        Files.delete(body);
        Run cli = check("--tier", "oob");
        assertThat(exit(cli)).as(cli.out() + cli.err()).isEqualTo(3);
        String guid = body.getFileName().toString().replace(".gz", "");
        assertThat(cli.out()).contains("BODY").contains(guid + " absent");
        Run refused = check("--tier", "oob", "--repair");
        assertThat(exit(refused)).as("the running sink holds the store").isEqualTo(3);
        assertThat(refused.err()).contains("not repaired").contains("stop its sink first");
        repairStore();
        assertThat(body).as("the body is back").exists();
    }

    @Test
    @Order(11)
    void aTruncatedMailboxFileInTheStoreIsFound() throws IOException {
        Path file;
        try (Stream<Path> files =
                Files.walk(lab.storeDir().resolve("users").resolve("bob").resolve("mailboxes"))) {
            file = files.filter(p -> p.toString().endsWith(".avro")).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        Run cli = check("--tier", "oob", "--user", "bob");
        assertThat(exit(cli)).as(cli.out() + cli.err()).isEqualTo(3);
        assertThat(cli.out()).contains("UNREADABLE").contains("MISSING_MAILBOX");
        repairStore();
    }

    /** A store is written by one process at a time: its sink stops while check repairs it. */
    private static void repairStore() {
        lab.oob.close();
        try {
            Run repaired = check("--tier", "oob", "--repair");
            assertThat(exit(repaired)).as(repaired.out() + repaired.err()).isEqualTo(0);
        } finally {
            lab.oob = Sinks.start(lab.config, lab.kafka.bootstrapServers(), "oob");
        }
        Run again = check("--tier", "oob", "--deep");
        assertThat(exit(again)).as(again.out() + again.err()).isEqualTo(0);
    }

    /** A change the primary made while capture's channel was stopped: only the primary shows it, until capture gets it. */
    @Test
    @Order(12)
    void aChangeCaptureNeverSawIsFoundOnThePrimary() {
        lab.primary.stopSyncClient(CyrusInstance.MAILSTREAM_CHANNEL);
        try {
            try (ImapClient c = lab.primary.endpoint().imap("alice")) {
                c.select("INBOX");
                c.uidStore("5", true, "$Important");
            }
            Run found = check("--tier", "primary-1", "--settle", "3");
            assertThat(exit(found)).as(found.out() + found.err()).isEqualTo(3);
            assertThat(found.out())
                    .as(found.out())
                    .contains("tier primary-1 alice user.alice ")
                    .contains("UID 5 flags canonical");
        } finally {
            lab.primary.startSyncClient(CyrusInstance.MAILSTREAM_CHANNEL, "-O");
        }
        lab.assertReplicaIdentical(USERS, CONVERGE);
        Run clean = check();
        assertThat(exit(clean)).as(clean.out() + clean.err()).isEqualTo(0);
    }

    private static Runnable imap(String user, java.util.function.Consumer<ImapClient> action) {
        return () -> {
            try (ImapClient c = lab.replica.endpoint().imap(user)) {
                action.accept(c);
            }
        };
    }

    /** Damage, found by check (exit 3, naming where and what), repaired by check --repair, then clean and the same as the primary. */
    private static void damageAndRepair(Runnable damage, String where, String what) {
        damage.run();
        Run found = check("--tier", "dc2");
        assertThat(exit(found)).as(found.out() + found.err()).isEqualTo(3);
        assertThat(found.out()).contains(where).contains(what);
        Run repaired = check("--tier", "dc2", "--repair");
        assertThat(exit(repaired)).as(repaired.out() + repaired.err()).isEqualTo(0);
        assertClean();
    }

    private static void assertClean() {
        Run again = check("--tier", "dc2");
        assertThat(exit(again)).as(again.out() + again.err()).isEqualTo(0);
        for (String u : USERS) {
            String d = ImapSnapshot.take(lab.primary.endpoint(), u)
                    .describeDifferences(ImapSnapshot.take(lab.replica.endpoint(), u));
            assertThat(d).as("IMAP snapshot of %s, replica vs primary", u).isNull();
        }
    }
}
