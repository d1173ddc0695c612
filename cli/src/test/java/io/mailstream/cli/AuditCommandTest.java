package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.producers.capture.Capture;
import io.mailstream.testkit.ChildJvm;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.LmtpClient;
import io.mailstream.testkit.MessageFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mailstream audit} over what a real Cyrus 3.6.1 primary's capture wrote to
 * mailstream.changes. Every step waits until Cyrus's sync log for the mailstream channel is
 * drained (capture has committed the step) before the test notes the time, so each change's
 * capture time lies between the marks around its step.
 */
class AuditCommandTest {
    private static final String USER = "alice";
    private static final Pattern TIME = Pattern.compile("\"captureTime\":(\\d+)");
    private static final Pattern ACTION = Pattern.compile("\"action\":\"([^\"]+)\"");

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static CyrusInstance primary;
    static Capture capture;
    static Path configFile;
    static final MessageFactory mail = new MessageFactory(12);

    @BeforeAll
    static void start() throws Exception {
        CyrusInstance.requireCyrus();
        int capturePort = PipelineLab.freePort();
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("data.dir", dir.resolve("data").toString());
        settings.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        settings.put("kafka.topic.partitions", "3");
        settings.put("kafka.topic.replication.factor", "1");
        settings.put("kafka.topic.min.insync.replicas", "1");
        settings.put("capture.listen", "127.0.0.1:" + capturePort);
        settings.put("capture.auth.user", "admin");
        settings.put("capture.auth.password", PipelineLab.ADMIN_PASSWORD);
        MailstreamConfig config = MailstreamConfig.of(settings);
        TopicAdmin.ensureTopics(config, kafka.bootstrapServers());
        primary = CyrusInstance.primary()
                .admin("admin", PipelineLab.ADMIN_PASSWORD)
                .user(USER, USER + "pw")
                .mailstreamTarget("127.0.0.1", capturePort)
                .syncRepeatInterval(0)
                .start();
        capture = Capture.start(config, kafka.bootstrapServers(), new SimpleMeterRegistry(), e -> {});
        primary.startSyncClient(CyrusInstance.MAILSTREAM_CHANNEL, "-O");
        configFile = ChildJvm.writeProperties(dir.resolve("mailstream.properties"), settings);
        try (ImapClient admin = primary.endpoint().imapAdmin()) {
            admin.create("user." + USER);
        }
        captured();
    }

    @AfterAll
    static void stop() throws Exception {
        if (primary != null) primary.close();
        if (capture != null) capture.close();
        if (kafka != null) kafka.close();
    }

    /** Waits until capture has committed everything Cyrus logged, then returns the time: later changes are captured after it. */
    static long captured() {
        primary.awaitSyncLogDrained(CyrusInstance.MAILSTREAM_CHANNEL, Duration.ofMinutes(2));
        return System.currentTimeMillis();
    }

    static void deliver(int index, String subject) {
        try (LmtpClient lmtp = primary.endpoint().lmtp()) {
            lmtp.deliver(
                    "bob@example.com",
                    List.of(USER),
                    mail.message(index, 2000, "bob@example.com", USER + "@example.com", subject));
        }
    }

    static ImapClient imap() {
        return primary.endpoint().imap(USER);
    }

    static List<String> audit(String... args) {
        Cli cli = new Cli(Map.of());
        List<String> all = new ArrayList<>(List.of("--config", configFile.toString(), "audit"));
        all.addAll(List.of(args));
        assertThat(cli.run(all.toArray(new String[0]))).as(cli.err()).isZero();
        return cli.out().lines().toList();
    }

    static String field(Pattern p, String line) {
        Matcher m = p.matcher(line);
        assertThat(m.find()).as(line).isTrue();
        return m.group(1);
    }

    @Test
    void aMessageDeliveredFlaggedMovedThenExpungedShowsThatSequenceWithItsTimes() {
        try (ImapClient c = imap()) {
            c.create("INBOX.Keep");
        }
        long t0 = captured();
        deliver(1, "audit me");
        long t1 = captured();
        long uid;
        try (ImapClient c = imap()) {
            c.select("INBOX");
            uid = c.uidFetch("1:*").stream()
                    .mapToLong(ImapClient.Message::uid)
                    .max()
                    .orElseThrow();
            c.uidStore(String.valueOf(uid), true, "\\Flagged");
        }
        long t2 = captured();
        try (ImapClient c = imap()) {
            c.select("INBOX");
            c.uidMove(String.valueOf(uid), "INBOX.Keep");
        }
        long t3 = captured();
        try (ImapClient c = imap()) {
            c.select("INBOX.Keep");
            c.uidStore("1", true, "\\Deleted");
            c.expunge();
        }
        long t4 = captured();

        List<String> text = audit("--user", USER, "--mailbox", "user." + USER, "--uid", String.valueOf(uid));
        List<String> json = audit("--user", USER, "--mailbox", "user." + USER, "--uid", String.valueOf(uid), "--json");
        assertThat(json.stream().map(l -> field(ACTION, l)).toList())
                .as(String.join("\n", text))
                .containsExactly("delivered", "flags", "moved", "expunged");
        assertThat(text.get(0)).contains("user.alice  uid " + uid + "  delivered");
        assertThat(text.get(1)).contains("user.alice  uid " + uid + "  flags +\\Flagged");
        assertThat(text.get(2))
                .contains("user.alice.Keep  uid 1  moved from user.alice uid " + uid + " to user.alice.Keep");
        assertThat(text.get(3)).contains("user.alice.Keep  uid 1  expunged");
        long[] marks = {t0, t1, t2, t3, t4};
        for (int i = 0; i < json.size(); i++) {
            long time = Long.parseLong(field(TIME, json.get(i)));
            assertThat(time)
                    .as("line %d: %s", i, text.get(i))
                    .isGreaterThan(marks[i])
                    .isLessThanOrEqualTo(marks[i + 1]);
        }
    }

    @Test
    void aFolderRenamedTwiceThenDeletedShowsThatSequenceWithItsTimes() {
        long t0 = captured();
        try (ImapClient c = imap()) {
            c.create("INBOX.Plans");
        }
        long t1 = captured();
        try (ImapClient c = imap()) {
            c.rename("INBOX.Plans", "INBOX.Plans2026");
        }
        long t2 = captured();
        try (ImapClient c = imap()) {
            c.rename("INBOX.Plans2026", "INBOX.Done");
        }
        long t3 = captured();
        try (ImapClient c = imap()) {
            c.delete("INBOX.Done");
        }
        long t4 = captured();

        List<String> text = audit("--user", USER, "--mailbox", "user." + USER + ".Plans");
        List<String> json = audit("--user", USER, "--mailbox", "user." + USER + ".Plans", "--json");
        assertThat(json.stream().map(l -> field(ACTION, l)).toList())
                .as(String.join("\n", text))
                .containsExactly("folder-created", "folder-renamed", "folder-renamed", "folder-deleted");
        assertThat(text.get(1)).contains("folder-renamed user.alice.Plans -> user.alice.Plans2026");
        assertThat(text.get(2)).contains("folder-renamed user.alice.Plans2026 -> user.alice.Done");
        assertThat(text.get(3))
                .contains(
                        "user.alice.Done  folder-deleted 0 messages in it; kept by Cyrus as DELETED.user.alice.Done.");
        long[] marks = {t0, t1, t2, t3, t4};
        for (int i = 0; i < json.size(); i++) {
            long time = Long.parseLong(field(TIME, json.get(i)));
            assertThat(time).as(text.get(i)).isGreaterThan(marks[i]).isLessThanOrEqualTo(marks[i + 1]);
        }
        // The same answer by a later name, and by time: only the changes inside the window.
        assertThat(audit("--user", USER, "--mailbox", "user." + USER + ".Done")).isEqualTo(text);
        List<String> window = audit(
                "--user",
                USER,
                "--mailbox",
                "user." + USER + ".Plans2026",
                "--since",
                String.valueOf(t1 + 1),
                "--until",
                String.valueOf(t3),
                "--json");
        assertThat(window.stream().map(l -> field(ACTION, l)).toList())
                .containsExactly("folder-renamed", "folder-renamed");
    }

    @Test
    void atShowsAFoldersContentAsTheImapSnapshotsTakenThen() {
        try (ImapClient c = imap()) {
            c.create("INBOX.Moments");
        }
        captured();
        Map<Long, Map<Long, String>> snapshots = new TreeMap<>();
        try (ImapClient c = imap()) {
            for (int i = 0; i < 3; i++) {
                c.append(
                        "INBOX.Moments",
                        List.of(),
                        mail.date(100 + i),
                        mail.message(100 + i, 1500, "carol@example.com", USER + "@example.com", "moment " + i));
            }
        }
        snapshots.put(captured(), imapSnapshot());
        try (ImapClient c = imap()) {
            c.select("INBOX.Moments");
            c.uidStore("1", true, "\\Seen", "\\Flagged");
            c.uidStore("2", true, "$Important");
            c.append(
                    "INBOX.Moments",
                    List.of("\\Draft"),
                    mail.date(103),
                    mail.message(103, 900, "carol@example.com", USER + "@example.com", "moment 3"));
        }
        snapshots.put(captured(), imapSnapshot());
        try (ImapClient c = imap()) {
            c.select("INBOX.Moments");
            c.uidStore("1", false, "\\Flagged");
            c.uidStore("3", true, "\\Deleted");
            c.expunge();
        }
        snapshots.put(captured(), imapSnapshot());
        assertThat(snapshots.values()).doesNotHaveDuplicates();

        for (Map.Entry<Long, Map<Long, String>> s : snapshots.entrySet()) {
            Map<Long, String> fromAudit = new TreeMap<>();
            for (String line : audit(
                    "--user",
                    USER,
                    "--mailbox",
                    "user." + USER + ".Moments",
                    "--at",
                    String.valueOf(s.getKey()),
                    "--json")) {
                long uid = Long.parseLong(field(Pattern.compile("\"uid\":(\\d+)"), line));
                long size = Long.parseLong(field(Pattern.compile("\"size\":(\\d+)"), line));
                String flags = field(Pattern.compile("\"flags\":\\[([^]]*)]"), line)
                        .replace("\"", "")
                        .replace("\\\\", "\\");
                fromAudit.put(uid, size + " " + new TreeSet<>(flags.isEmpty() ? List.of() : List.of(flags.split(","))));
            }
            assertThat(fromAudit).as("at %d", s.getKey()).isEqualTo(s.getValue());
        }
        assertThat(audit(
                        "--user",
                        USER,
                        "--at",
                        String.valueOf(snapshots.keySet().iterator().next())))
                .anyMatch(l -> l.startsWith("user.alice.Moments ") && l.contains("  3 messages"));
    }

    /** UID → size and flags (without \Recent, which is per session) of INBOX.Moments, over IMAP. */
    private static Map<Long, String> imapSnapshot() {
        Map<Long, String> out = new TreeMap<>();
        try (ImapClient c = imap()) {
            c.examine("INBOX.Moments");
            for (ImapClient.Message m : c.uidFetch("1:*")) {
                TreeSet<String> flags = new TreeSet<>(m.flags());
                flags.remove("\\Recent");
                out.put(m.uid(), m.size() + " " + flags);
            }
        }
        return out;
    }
}
