package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.sinks.SinkHandle;
import io.mailstream.sinks.Sinks;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tier that was not there from the start, or that was down longer than its feed's retention,
 * must first receive the whole current state from {@code mailstream.state} (bodies from the
 * content topic), then its feed, with nothing lost in between: on real Cyrus servers and the real
 * broker, through capture and streams, compared with the primary (IMAP, SYNCGET, store files).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TierBackfillTest {
    private static final List<String> RECIPIENTS = IntStream.rangeClosed(1, 4)
            .mapToObj(i -> String.format("user%02d", i))
            .toList();
    private static final List<String> USERS = concat(List.of(ImapActionScript.ALICE, ImapActionScript.BOB), RECIPIENTS);
    private static final Duration CONVERGE = Duration.ofMinutes(3);
    /** TierBackfill's test hook: pause after that many partition keys. */
    private static final String PAUSE_AFTER_KEYS = "mailstream.test.backfill.pauseAfterKeys";

    @TempDir
    static Path dir;

    static PipelineLab lab;
    static CyrusInstance lateReplica;
    static Map<String, String> grownSettings;
    static MailstreamConfig grown;
    static final MessageFactory mail = new MessageFactory(909);
    static int delivered;

    @BeforeAll
    static void start() throws Exception {
        lab = new PipelineLab(dir, PipelineLab.scriptUsers(USERS));
        new ImapActionScript(lab.primary.endpoint(), 5).runAll();
        try (ImapClient admin = lab.primary.endpoint().imapAdmin()) {
            RECIPIENTS.forEach(u -> admin.create("user." + u));
        }
        deliver(16);
        lab.awaitCaptured();
        lab.awaitTierCaughtUp("dc2");
        lab.awaitTierCaughtUp("oob");
    }

    @AfterAll
    static void stop() {
        if (lateReplica != null) lateReplica.close();
        if (lab != null) lab.close();
    }

    @Test
    @Order(1)
    void tiersAddedLaterGetTheWholeStateAndThenTheFeed() throws Exception {
        lateReplica = lab.emptyReplica();
        Map<String, String> settings = lab.settings();
        settings.put("tiers", "dc2,oob,late,dc3,resumed");
        settings.put("tier.late.type", "store");
        settings.put("tier.late.store.dir", lateStore().toString());
        settings.put("tier.resumed.type", "store");
        settings.put("tier.resumed.store.dir", resumedStore().toString());
        settings.put("tier.dc3.type", "cyrus");
        settings.put("tier.dc3.cyrus.address", "127.0.0.1:" + lateReplica.csyncPort());
        settings.put("tier.dc3.cyrus.password", PipelineLab.ADMIN_PASSWORD);
        grownSettings = settings;
        grown = MailstreamConfig.of(settings);
        lab.restartStreams(grown);
        try (SinkHandle late = Sinks.start(grown, lab.kafka.bootstrapServers(), "late");
                SinkHandle dc3 = Sinks.start(grown, lab.kafka.bootstrapServers(), "dc3")) {
            // Changes after the tiers were added come through their feeds.
            deliver(6);
            flagAll("user02");
            lab.awaitCaptured();
            awaitNoDifferences("store of the new tier late", () -> storeDifferences(lateStore()));
            awaitNoDifferences(
                    "replica of the new tier dc3",
                    () -> SameMail.replicaDifferences(lab.primary.endpoint(), lateReplica.endpoint(), USERS));
            assertThat(late.isRunning()).isTrue();
            assertThat(dc3.isRunning()).isTrue();
        }
    }

    @Test
    @Order(2)
    void aBackfillKilledMidwayResumesWhereItStopped() throws Exception {
        Path config = ChildJvm.writeProperties(dir.resolve("grown.properties"), grownSettings);
        try (ChildJvm first = ChildJvm.start(
                "sink-resumed-first",
                List.of("-Xmx512m", "-D" + PAUSE_AFTER_KEYS + "=2"),
                Main.class.getName(),
                "running; Ctrl-C stops it",
                Duration.ofSeconds(90),
                "sink",
                "--tier",
                "resumed",
                "--config",
                config.toString())) {
            first.awaitOutput("backfill paused after 2 keys", CONVERGE);
            first.kill(); // SIGKILL mid-backfill: two keys done, the rest not, nothing committed
        }
        Path progress = dir.resolve("data").resolve("sink-resumed").resolve("backfill");
        assertThat(Files.readAllLines(progress.resolve("done")))
                .as("keys the killed backfill finished")
                .hasSize(2);
        assertThat(committedOffsets("resumed"))
                .as("nothing committed before the backfill is complete")
                .isEmpty();
        deliver(4); // changes while the tier is down come through its feed after the backfill
        lab.awaitCaptured();
        try (ChildJvm second = ChildJvm.start(
                "sink-resumed-second",
                Main.class.getName(),
                "running; Ctrl-C stops it",
                Duration.ofSeconds(90),
                "sink",
                "--tier",
                "resumed",
                "--config",
                config.toString())) {
            awaitNoDifferences("store of the resumed tier", () -> storeDifferences(resumedStore()));
            assertThat(second.output())
                    .contains("resuming the backfill: 2 partition keys done")
                    .contains("backfill done");
        }
        assertThat(progress.resolve("plan.properties"))
                .as("the finished backfill's plan")
                .doesNotExist();
    }

    @Test
    @Order(3)
    void aSinkWhoseFeedLostEventsToRetentionSaysSoAndBackfills() throws Exception {
        lab.oob.close();
        deliver(6);
        flagAll("user03");
        lab.awaitCaptured();
        lab.awaitTierCaughtUp("dc2"); // streams has written the oob feed in the same transactions
        Map<TopicPartition, Long> committed = committedOffsets("oob");
        Map<TopicPartition, Long> logStart = dropFeedUpToEnd("oob");
        List<TopicPartition> gaps = logStart.keySet().stream()
                .filter(tp -> committed.getOrDefault(tp, 0L) < logStart.get(tp))
                .toList();
        assertThat(gaps)
                .as("partitions whose events retention took before the sink applied them")
                .isNotEmpty();

        try (ChildJvm sink = ChildJvm.start(
                "sink-oob-gap",
                Main.class.getName(),
                "running; Ctrl-C stops it",
                Duration.ofSeconds(90),
                "sink",
                "--tier",
                "oob",
                "--config",
                lab.configFile().toString())) {
            awaitNoDifferences("store of oob after a retention gap", () -> storeDifferences(lab.storeDir()));
            String output = sink.output();
            for (TopicPartition tp : gaps) {
                assertThat(output)
                        .as("the sink's log")
                        .containsPattern(Pattern.compile("ERROR .*tier oob: " + Pattern.quote(tp.toString())
                                + ": committed offset " + committed.getOrDefault(tp, 0L) + " is below the log start "
                                + logStart.get(tp)));
            }
        }
    }

    /** A Cyrus tier past a gap: what it missed includes a deleted folder, a rename, an expunge and new mail. */
    @Test
    @Order(4)
    void aCyrusTierWhoseFeedLostEventsToRetentionIsBroughtToTheSameMail() throws Exception {
        try (ImapClient c = lab.primary.endpoint().imap("user04")) {
            c.create("INBOX.Old");
            c.create("INBOX.Keep");
            c.select("INBOX");
            c.uidCopy("1:2", "INBOX.Old");
            c.uidCopy("1:2", "INBOX.Keep");
        }
        lab.awaitCaptured();
        lab.awaitTierCaughtUp("dc2"); // the replica has both folders
        lab.dc2.close();
        try (ImapClient c = lab.primary.endpoint().imap("user04")) {
            c.delete("INBOX.Old");
            c.rename("INBOX.Keep", "INBOX.Kept");
            c.select("INBOX");
            c.uidStore("1:*", true, "$Gap");
            c.uidStore("2", true, "\\Deleted");
            c.expunge();
        }
        deliver(4);
        lab.awaitCaptured();
        awaitStreamsCaughtUp();
        Map<TopicPartition, Long> committed = committedOffsets("dc2");
        Map<TopicPartition, Long> logStart = dropFeedUpToEnd("dc2");
        assertThat(logStart.keySet())
                .as("partitions with events the dc2 sink never applied")
                .anyMatch(tp -> committed.getOrDefault(tp, 0L) < logStart.get(tp));

        lab.dc2 = Sinks.start(lab.config, lab.kafka.bootstrapServers(), "dc2");
        awaitNoDifferences(
                "replica of dc2 after a retention gap",
                () -> SameMail.replicaDifferences(lab.primary.endpoint(), lab.replica.endpoint(), USERS));
    }

    // ---------------------------------------------------------------- helpers

    /** Streams has committed every change: the feeds hold whatever it will write for them. */
    private static void awaitStreamsCaughtUp() {
        await().atMost(CONVERGE).pollInterval(Duration.ofSeconds(1)).until(() -> {
            try (Admin admin = Admin.create(KafkaClients.adminProps(lab.kafka.bootstrapServers()))) {
                Map<TopicPartition, Long> done = new HashMap<>();
                admin.listConsumerGroupOffsets(lab.config.get(ConfigKeys.STREAMS_APPLICATION_ID))
                        .partitionsToOffsetAndMetadata()
                        .get()
                        .forEach((tp, om) -> {
                            if (om != null && tp.topic().equals(Topics.CHANGES)) done.put(tp, om.offset());
                        });
                Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                done.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
                var end = admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                        .all()
                        .get();
                return !done.isEmpty()
                        && end.entrySet().stream()
                                .allMatch(e ->
                                        done.get(e.getKey()) >= e.getValue().offset());
            }
        });
    }

    private static Path lateStore() {
        return dir.resolve("store-late");
    }

    private static Path resumedStore() {
        return dir.resolve("store-resumed");
    }

    /** Mostly small, every fifth of 1.3 MB (three content chunks), round robin over the recipients. */
    private static void deliver(int count) {
        try (LmtpClient lmtp = lab.primary.endpoint().lmtp()) {
            for (int i = delivered; i < delivered + count; i++) {
                String to = RECIPIENTS.get(i % RECIPIENTS.size());
                int size = i % 5 == 2 ? 1_300_000 : 2_000 + (i * 7919) % 30_000;
                lmtp.deliver(
                        "sender" + i + "@example.org",
                        List.of(to),
                        mail.message(i, size, "sender" + i + "@example.org", to + "@mailstream.test", "message " + i));
            }
        }
        delivered += count;
    }

    private static void flagAll(String user) {
        try (ImapClient c = lab.primary.endpoint().imap(user)) {
            c.select("INBOX");
            c.uidStore("1:*", true, "\\Flagged");
        }
    }

    private static List<String> storeDifferences(Path store) throws Exception {
        try (ImapClient primary = lab.primary.endpoint().imapAdmin()) {
            return SameMail.storeDifferences(primary, StoreReader.open(store), USERS);
        }
    }

    private static void awaitNoDifferences(String what, Callable<List<String>> differences) {
        List<String> last = new ArrayList<>();
        try {
            // ignoreExceptions: ManageSieve refuses a user whose mailbox has not reached a replica yet.
            await().atMost(CONVERGE)
                    .pollInterval(Duration.ofSeconds(2))
                    .ignoreExceptions()
                    .until(() -> {
                        last.clear();
                        last.addAll(differences.call());
                        return last.isEmpty();
                    });
        } finally {
            assertThat(last).as(what + " vs the primary").isEmpty();
        }
    }

    private static Map<TopicPartition, Long> committedOffsets(String tier) throws Exception {
        try (Admin admin = Admin.create(KafkaClients.adminProps(lab.kafka.bootstrapServers()))) {
            Map<TopicPartition, Long> out = new HashMap<>();
            admin.listConsumerGroupOffsets(Topics.sinkGroup(tier))
                    .partitionsToOffsetAndMetadata()
                    .get()
                    .forEach((tp, om) -> {
                        if (om != null) out.put(tp, om.offset());
                    });
            return out;
        }
    }

    /** What retention does to a feed whose sink is down: every record so far is gone. Returns the new log start per partition. */
    private static Map<TopicPartition, Long> dropFeedUpToEnd(String tier) throws Exception {
        try (Admin admin = Admin.create(KafkaClients.adminProps(lab.kafka.bootstrapServers()))) {
            String feed = Topics.feed(tier);
            int partitions = admin.describeTopics(List.of(feed))
                    .allTopicNames()
                    .get()
                    .get(feed)
                    .partitions()
                    .size();
            Map<TopicPartition, OffsetSpec> latest = IntStream.range(0, partitions)
                    .boxed()
                    .collect(Collectors.toMap(p -> new TopicPartition(feed, p), p -> OffsetSpec.latest()));
            Map<TopicPartition, Long> end = new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, info) -> end.put(tp, info.offset()));
            Map<TopicPartition, RecordsToDelete> delete = new HashMap<>();
            end.forEach((tp, offset) -> delete.put(tp, RecordsToDelete.beforeOffset(offset)));
            admin.deleteRecords(delete).all().get();
            return end;
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }
}
