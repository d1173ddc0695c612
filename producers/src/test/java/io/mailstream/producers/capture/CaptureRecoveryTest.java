package io.mailstream.producers.capture;

import static io.mailstream.producers.capture.CaptureActionScriptTest.payloads;
import static io.mailstream.producers.capture.CaptureActionScriptTest.recordsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mailstream.csync.model.Mailbox;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.content.MessageChunker;
import io.mailstream.sinks.StoreFromChanges;
import io.mailstream.sinks.StoreReader;
import io.mailstream.testkit.ChildJvm;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.MessageFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Capture against crashes and outages, with a real Cyrus primary and a real embedded broker. */
class CaptureRecoveryTest {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureRecoveryTest.class);

    @TempDir
    Path tmp;

    static Map<String, String> users(int n) {
        Map<String, String> users = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            users.put("u" + i, "pw" + i);
        }
        return users;
    }

    static void createInboxes(CaptureLab lab, Set<String> users) {
        try (ImapClient admin = lab.cyrus.endpoint().imapAdmin()) {
            users.forEach(u -> admin.create("user." + u));
        }
    }

    /** Appends message {@code index} to the user's INBOX; returns "user/uid/guid". */
    static String append(CaptureLab lab, MessageFactory messages, String user, int index) {
        byte[] body =
                messages.message(index, 800 + index * 37 % 3000, "x@example.org", user + "@example.org", "m" + index);
        try (ImapClient c = lab.cyrus.endpoint().imap(user)) {
            long uid = c.append("INBOX", List.of(), messages.date(index), body);
            return user + "/" + uid + "/" + MessageChunker.sha1Hex(body);
        }
    }

    /** user/uid/guid of every live record the primary holds in these users' INBOXes, from its own index. */
    private static Set<String> primaryMessages(CaptureLab lab, Set<String> users) {
        Set<String> out = new HashSet<>();
        for (String u : users) {
            for (io.mailstream.csync.model.MessageRecord r :
                    lab.primaryFullMailbox("user." + u).records()) {
                if (!r.isExpunged()) {
                    out.add(u + "/" + r.uid() + "/" + r.guid().hex());
                }
            }
        }
        return out;
    }

    /** user/uid/guid of every record in mailstream.changes; duplicates must agree on everything. */
    private static Set<String> capturedMessages(List<ChangeEvent> events, Set<String> users) {
        Map<String, MessageRecord> byUid = new HashMap<>();
        Set<String> out = new HashSet<>();
        for (String u : users) {
            for (MessageRecord r : recordsOf(events, "user." + u)) {
                MessageRecord earlier = byUid.putIfAbsent(u + "/" + r.getUid(), r);
                if (earlier != null) {
                    assertThat(r).as("duplicate of " + u + " UID " + r.getUid()).isEqualTo(earlier);
                }
                out.add(u + "/" + r.getUid() + "/" + r.getGuid());
            }
        }
        Set<String> bodies = payloads(events, MessageContent.class).stream()
                .map(MessageContent::getGuid)
                .collect(Collectors.toSet());
        out.forEach(m -> assertThat(bodies).as("body of " + m).contains(m.substring(m.lastIndexOf('/') + 1)));
        return out;
    }

    /** What was appended is on the primary, and exactly that is in mailstream.changes. */
    static void assertEveryMessageCaptured(CaptureLab lab, Set<String> users, Set<String> appended) {
        Set<String> onPrimary = primaryMessages(lab, users);
        assertThat(onPrimary).isEqualTo(appended);
        assertThat(capturedMessages(lab.events(), users)).isEqualTo(onPrimary);
    }

    @Test
    void killedTwiceWhileMailArrivesLosesNothing() throws Exception {
        Map<String, String> users = users(10);
        try (CaptureLab lab = new CaptureLab(tmp, users)) {
            createInboxes(lab, users.keySet());
            Path configFile = lab.configFile(tmp.resolve("data"));
            lab.startSyncClient();
            MessageFactory messages = new MessageFactory(11);
            Set<String> appended = new HashSet<>();
            ChildJvm capture = startChild(configFile, "1");
            List<String> names = List.copyOf(users.keySet());
            for (int i = 0; i < 200; i++) {
                appended.add(append(lab, messages, names.get(i % names.size()), i));
                if (i == 60 || i == 130) {
                    capture.kill(); // SIGKILL: no close, no snapshot, maybe mid-transaction
                    LOG.info("killed capture after message {}", i);
                } else if (i == 90 || i == 160) {
                    capture = startChild(configFile, Integer.toString(i));
                    lab.restartSyncClientIfGone();
                }
            }
            try {
                lab.restartSyncClientIfGone();
                lab.awaitDrained();
            } finally {
                capture.kill();
            }
            lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
            assertEveryMessageCaptured(lab, users.keySet(), appended);
        }
    }

    @Test
    void brokerDownMeansNoThenEverythingArrives() throws Exception {
        Map<String, String> users = users(2);
        try (CaptureLab lab = new CaptureLab(tmp, users);
                Capture capture = lab.startCapture(tmp.resolve("data"))) {
            createInboxes(lab, users.keySet());
            lab.startSyncClient();
            lab.awaitDrained();
            MessageFactory messages = new MessageFactory(5);
            Set<String> appended = new HashSet<>();
            appended.add(append(lab, messages, "u0", 0));
            lab.awaitDrained();

            lab.kafka.close();
            for (int i = 1; i <= 6; i++) {
                appended.add(append(lab, messages, "u" + (i % 2), i));
            }
            // Capture answers NO while Kafka is away, so the change stays in Cyrus's sync log.
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> lab.metrics
                                    .counter("mailstream.capture.refused", "code", "AGAIN")
                                    .count()
                            > 0);
            assertThat(lab.cyrus.isSyncLogDrained(CaptureLab.CHANNEL)).isFalse();

            lab.kafka = io.mailstream.core.kafka.EmbeddedKafka.start(tmp.resolve("kafka"), 0);
            lab.awaitDrained();
            lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
            assertEveryMessageCaptured(lab, users.keySet(), appended);
        }
    }

    @Test
    void lostShadowIsRebuiltFromKafkaWithoutAFullResend() throws Exception {
        Map<String, String> users = users(2);
        Path data = tmp.resolve("data");
        try (CaptureLab lab = new CaptureLab(tmp, users)) {
            createInboxes(lab, users.keySet());
            MessageFactory messages = new MessageFactory(3);
            lab.startSyncClient();
            try (Capture capture = lab.startCapture(data)) {
                for (int i = 0; i < 8; i++) {
                    append(lab, messages, "u" + (i % 2), i);
                }
                try (ImapClient c = lab.cyrus.endpoint().imap("u0")) {
                    c.select("INBOX");
                    c.uidStore("1", true, "\\Flagged");
                }
                lab.awaitDrained();
                // Closing capture says BYE, and sync_client then exits (under DAEMON master restarts it).
                lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
            }
            Path shadowDir =
                    data.resolve("capture").resolve(CaptureLab.SERVER_ID).resolve("shadow");
            Capture.deleteTree(shadowDir);
            Map<TopicPartition, Long> before = lab.endOffsets();
            try (Capture capture = lab.startCapture(data)) {
                // The rebuilt shadow answers Cyrus as the old one did: same CRCs as the primary.
                List<Mailbox> shadow = capture.mailboxes();
                Map<String, Mailbox> primary = lab.primaryMailboxes(List.of("user.u0", "user.u1"));
                assertThat(shadow).extracting(Mailbox::name).containsExactlyInAnyOrder("user.u0", "user.u1");
                for (Mailbox m : shadow) {
                    assertThat(m.syncCrc())
                            .as(m.name())
                            .isEqualTo(primary.get(m.name()).syncCrc());
                    assertThat(m.highestModSeq())
                            .as(m.name())
                            .isEqualTo(primary.get(m.name()).highestModSeq());
                }
                // A full user sync (no-op) and one new message: only the new message travels.
                lab.startSyncClient();
                lab.cyrus.runTool("cyr_synclog", "-u", "u0");
                lab.awaitDrained();
                String fresh = append(lab, messages, "u0", 100);
                lab.awaitDrained();
                List<ChangeEvent> after = lab.eventsSince(before);
                String freshGuid = fresh.substring(fresh.lastIndexOf('/') + 1);
                assertThat(payloads(after, MessageContent.class))
                        .extracting(MessageContent::getGuid)
                        .containsOnly(freshGuid);
                assertThat(payloads(after, RecordsUpsert.class))
                        .flatExtracting(RecordsUpsert::getRecords)
                        .extracting(MessageRecord::getGuid)
                        .containsOnly(freshGuid);
                lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
            }
        }
    }

    @Test
    void aLostShadowIsRebuiltWithAFolderThatMovedToAnotherUser() throws Exception {
        Map<String, String> users = users(2); // u0 and u1 hash to different partitions of mailstream.changes
        Path data = tmp.resolve("data");
        try (CaptureLab lab = new CaptureLab(tmp, users)) {
            createInboxes(lab, users.keySet());
            MessageFactory messages = new MessageFactory(5);
            lab.startSyncClient();
            try (Capture capture = lab.startCapture(data)) {
                try (ImapClient c = lab.cyrus.endpoint().imap("u0")) {
                    c.create("INBOX.Work");
                    for (int i = 0; i < 4; i++) {
                        c.append(
                                "INBOX.Work",
                                List.of(),
                                messages.date(i),
                                messages.message(i, 900 + i, "x@example.org", "u0@example.org", "m" + i));
                    }
                }
                lab.awaitDrained();
                try (ImapClient admin = lab.cyrus.endpoint().imapAdmin()) {
                    admin.rename("user.u0.Work", "user.u1.Work");
                }
                lab.awaitDrained();
                lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
            }
            Capture.deleteTree(
                    data.resolve("capture").resolve(CaptureLab.SERVER_ID).resolve("shadow"));
            try (Capture capture = lab.startCapture(data)) {
                // Each user's events are folded in their order, whatever order the partitions are read in.
                List<String> names = List.of("user.u0", "user.u1", "user.u1.Work");
                Map<String, Mailbox> primary = lab.primaryMailboxes(names);
                assertThat(primary.keySet()).containsExactlyInAnyOrderElementsOf(names);
                List<Mailbox> shadow = capture.mailboxes();
                assertThat(shadow).extracting(Mailbox::name).containsExactlyInAnyOrderElementsOf(names);
                for (Mailbox m : shadow) {
                    assertThat(m.uniqueId())
                            .as(m.name())
                            .isEqualTo(primary.get(m.name()).uniqueId());
                    assertThat(m.syncCrc())
                            .as(m.name())
                            .isEqualTo(primary.get(m.name()).syncCrc());
                    assertThat(m.highestModSeq())
                            .as(m.name())
                            .isEqualTo(primary.get(m.name()).highestModSeq());
                }
            }
        }
    }

    @Test
    void secondCaptureWithTheSameServerIdFencesTheFirst() throws Exception {
        Map<String, String> users = users(1);
        try (CaptureLab lab = new CaptureLab(tmp, users)) {
            Set<Throwable> fencedBy = new HashSet<>();
            try (Capture first = Capture.start(
                    lab.config(tmp.resolve("first")),
                    lab.kafka.bootstrapServers(),
                    new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                    fencedBy::add)) {
                createInboxes(lab, users.keySet());
                lab.startSyncClient();
                lab.awaitDrained();
                assertThat(first.isFenced()).isFalse();
                try (Capture second = Capture.start(
                        lab.config(tmp.resolve("second")).with(Map.of("capture.listen", "127.0.0.1:0")),
                        lab.kafka.bootstrapServers(),
                        new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                        e -> {})) {
                    Map<TopicPartition, Long> before = lab.endOffsets();
                    append(lab, new MessageFactory(1), "u0", 0);
                    await().atMost(Duration.ofSeconds(30)).until(first::isFenced);
                    assertThat(fencedBy).isNotEmpty();
                    // The first refuses from now on: Cyrus keeps the change, nothing reached Kafka.
                    await().during(Duration.ofSeconds(2)).until(() -> !lab.cyrus.isSyncLogDrained(CaptureLab.CHANNEL));
                    assertThat(lab.eventsSince(before)).isEmpty();
                    assertThat(second.isFenced()).isFalse();
                }
                lab.cyrus.killSyncClient(CaptureLab.CHANNEL);
            }
        }
    }

    /**
     * An operator copied data.dir/capture, kept working, then put the copy back: the copy's
     * sequence reservation is behind what mailstream.changes holds. Capture must continue above
     * Kafka's, or the store skips the later events as "already applied".
     */
    @Test
    void aRestoredCopyOfTheDataDirReusesNoSequence() throws Exception {
        Map<String, String> users = users(4);
        Path data = tmp.resolve("data");
        Path captureDir = data.resolve("capture");
        Path copy = tmp.resolve("capture-copy");
        try (CaptureLab lab = new CaptureLab(tmp, users)) {
            createInboxes(lab, users.keySet());
            MessageFactory messages = new MessageFactory(17);
            List<String> names = List.copyOf(users.keySet());
            Set<String> appended = new HashSet<>();
            for (int round = 0; round < 3; round++) {
                if (round == 2) {
                    Capture.deleteTree(captureDir);
                    copyTree(copy, captureDir);
                }
                try (Capture capture = lab.startCapture(data)) {
                    lab.startSyncClient();
                    for (int i = round * 60; i < round * 60 + 60; i++) {
                        appended.add(append(lab, messages, names.get(i % names.size()), i));
                    }
                    lab.awaitDrained();
                    lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
                }
                if (round == 0) {
                    copyTree(captureDir, copy);
                }
            }
            assertEveryMessageCaptured(lab, users.keySet(), appended);
            Map<Integer, List<ChangeEvent>> byPartition = lab.eventsByPartition();
            assertNoSequenceReused(byPartition);
            // The operator's check: a store fed these events holds every message, body included.
            Path store = tmp.resolve("store");
            StoreFromChanges.apply(store, byPartition);
            Set<String> stored = storedMessages(StoreReader.open(store), users.keySet());
            Set<String> lacking = new java.util.TreeSet<>(appended);
            lacking.removeAll(stored);
            assertThat(lacking).as("messages the store lacks").isEmpty();
            assertThat(stored).isEqualTo(appended);
        }
    }

    /** user/uid/guid of every live INBOX record in the store whose body it holds too. */
    private static Set<String> storedMessages(StoreReader store, Set<String> users) throws java.io.IOException {
        Set<String> out = new HashSet<>();
        for (String u : users) {
            for (MailboxState m : store.mailboxes(u)) {
                if (!m.getHeader().getName().equals("user." + u)) {
                    continue;
                }
                for (MessageRecord r : m.getRecords()) {
                    if (store.hasBody(r.getGuid())) {
                        out.add(u + "/" + r.getUid() + "/" + r.getGuid());
                    }
                }
            }
        }
        return out;
    }

    /**
     * A journal frame garbled on disk cuts every frame after it on open, the sequence
     * reservations included, although their numbers are in Kafka. Capture killed (no snapshot)
     * twice, so that the journal holds two reservations; the first frame is garbled.
     */
    @Test
    void aJournalCutShortReusesNoSequence() throws Exception {
        Map<String, String> users = users(2);
        Path data = tmp.resolve("data");
        try (CaptureLab lab = new CaptureLab(tmp, users)) {
            createInboxes(lab, users.keySet());
            Path configFile = lab.configFile(data);
            MessageFactory messages = new MessageFactory(23);
            List<String> names = List.copyOf(users.keySet());
            Set<String> appended = new HashSet<>();
            for (int round = 0; round < 3; round++) {
                if (round == 2) {
                    garbleFirstFrame(data.resolve("capture")
                            .resolve(CaptureLab.SERVER_ID)
                            .resolve("shadow"));
                }
                ChildJvm capture = startChild(configFile, "journal-" + round);
                try {
                    lab.startSyncClient();
                    for (int i = round * 10; i < round * 10 + 10; i++) {
                        appended.add(append(lab, messages, names.get(i % names.size()), i));
                    }
                    lab.awaitDrained();
                    lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
                } finally {
                    capture.kill(); // no close: what was applied is only in the journal
                }
            }
            assertEveryMessageCaptured(lab, users.keySet(), appended);
            assertNoSequenceReused(lab.eventsByPartition());
        }
    }

    /** Flips a bit of the first journal frame's CRC, so that it and everything after it are cut on open. */
    private static void garbleFirstFrame(Path shadowDir) throws java.io.IOException {
        Path journal;
        try (var files = Files.list(shadowDir)) {
            journal = files.filter(f -> f.getFileName().toString().startsWith("journal."))
                    .findFirst()
                    .orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(journal);
        assertThat(bytes.length).as(journal + " holds frames").isGreaterThan(8);
        bytes[4] ^= 1;
        Files.write(journal, bytes);
    }

    /**
     * Every event of {@link CaptureLab#SERVER_ID} is new to a consumer that keeps, per partition
     * key, the highest sequence it applied and skips anything at or below it (the store's rule),
     * and no sequence number stands for two events.
     */
    private static void assertNoSequenceReused(Map<Integer, List<ChangeEvent>> byPartition) {
        Map<Long, String> eventIdBySequence = new HashMap<>();
        List<String> skipped = new java.util.ArrayList<>();
        List<Long> reused = new java.util.ArrayList<>();
        for (List<ChangeEvent> partition : byPartition.values()) {
            Map<String, Long> applied = new HashMap<>();
            for (ChangeEvent e : partition) {
                var env = e.getEnvelope();
                if (!env.getSourceServerId().equals(CaptureLab.SERVER_ID)) {
                    continue;
                }
                String earlier = eventIdBySequence.putIfAbsent(env.getSequence(), env.getEventId());
                if (earlier != null && !earlier.equals(env.getEventId())) {
                    reused.add(env.getSequence());
                }
                Long last = applied.get(env.getPartitionKey());
                if (last != null && env.getSequence() <= last) {
                    skipped.add(env.getPartitionKey() + " "
                            + e.getPayload().getClass().getSimpleName() + " sequence " + env.getSequence() + " after "
                            + last);
                }
                applied.merge(env.getPartitionKey(), env.getSequence(), Math::max);
            }
        }
        assertThat(reused).as("sequences that stand for two events").isEmpty();
        assertThat(skipped).as("events a store would skip as already applied").isEmpty();
    }

    @Test
    void aSecondSiteWithTheSameServerIdIsRefused() throws Exception {
        Map<String, String> users = users(1);
        try (CaptureLab lab = new CaptureLab(tmp, users)) {
            createInboxes(lab, users.keySet());
            try (Capture capture = lab.startCapture(tmp.resolve("dc1"))) {
                lab.startSyncClient();
                append(lab, new MessageFactory(2), "u0", 0);
                lab.awaitDrained();
                lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
            }
            Map<TopicPartition, Long> before = lab.endOffsets();
            // Another data centre, left on the same capture.server.id, with a data.dir of its own.
            var dc2 = lab.config(tmp.resolve("dc2")).with(Map.of("site", "dc2"));
            assertThatThrownBy(() -> Capture.start(
                                    dc2,
                                    lab.kafka.bootstrapServers(),
                                    new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                                    e -> {})
                            .close())
                    .hasMessageContaining("dc1")
                    .hasMessageContaining("dc2")
                    .hasMessageContaining("capture.server.id")
                    .hasMessageContaining(CaptureLab.SERVER_ID);
            assertThat(lab.eventsSince(before)).isEmpty();
            // The first site is not harmed: it starts again and captures.
            try (Capture capture = lab.startCapture(tmp.resolve("dc1"))) {
                lab.startSyncClient();
                append(lab, new MessageFactory(2), "u0", 1);
                lab.awaitDrained();
                lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
                assertThat(capture.isFenced()).isFalse();
            }
            assertThat(payloads(lab.eventsSince(before), RecordsUpsert.class)).isNotEmpty();
        }
    }

    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    private static ChildJvm startChild(Path configFile, String name) {
        return ChildJvm.start(
                "capture-child-" + name,
                CaptureChild.class.getName(),
                "READY",
                Duration.ofSeconds(60),
                configFile.toString());
    }
}
