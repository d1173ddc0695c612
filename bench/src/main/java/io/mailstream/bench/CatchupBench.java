package io.mailstream.bench;

import io.mailstream.core.kafka.Topics;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.ImapException;
import io.mailstream.testkit.LmtpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backlog catch-up, side by side in one run on one primary: with replication stopped, LMTP
 * deliveries build a backlog in the sync logs of both of the primary's channels; then Cyrus's own
 * sync_client (default channel, straight to a Cyrus replica) is started and timed until every
 * mailbox is equal there, and after it mailstream's (channel mailstream: capture, streams, Cyrus
 * replica sink) until every mailbox is equal on the tier's replica. Both see the same mail, the
 * same sync log and the same probe: {@code SYNCGET MAILBOXES} as admin on the replica, every
 * mailbox's UNIQUEID, LAST_UID, HIGHESTMODSEQ and SYNC_CRC against the primary's (a few ms per
 * poll). For mailstream, consumers of mailstream.changes and of the tier's feed split the time by
 * hop.
 */
public final class CatchupBench {
    private static final Logger LOG = LoggerFactory.getLogger(CatchupBench.class);
    private static final Duration CONVERGE = Duration.ofMinutes(30);
    private static final Pattern MAILBOX_LINE = Pattern.compile("^\\* MAILBOX ");
    private static final List<String> COMPARED = List.of("UNIQUEID", "LAST_UID", "HIGHESTMODSEQ", "SYNC_CRC");
    private static final Pattern MBOXNAME = Pattern.compile("\\bMBOXNAME (\\S+?)[ )]");

    private CatchupBench() {}

    public static void main(String[] args) throws Exception {
        Args options = Args.parse(args, "messages", "users", "senders", "large-percent");
        int messages = options.integer("messages", 2000);
        int userCount = options.integer("users", 20);
        int senders = options.integer("senders", 2);
        int largePercent = options.integer("large-percent", 1);
        Report report = new Report("catchup");
        List<String> users = Mail.users(userCount);
        List<Mail.Delivery> mail = Mail.deliveries(messages, users, largePercent);
        long mailBytes = mail.stream().mapToLong(d -> d.message().length).sum();
        String mailboxes = "MAILBOXES ("
                + String.join(" ", users.stream().map(u -> "user." + u).toList()) + ")";

        double nativeSeconds;
        double mailstreamSeconds;
        double firstChange;
        double lastChange;
        double lastFeed;
        try (CyrusInstance nativeReplica =
                        Pipeline.withUsers(CyrusInstance.replica(), users).start();
                Pipeline pipeline = Pipeline.toTiersStopped(users, b -> b.syncTo(nativeReplica))) {
            try (ImapClient admin = pipeline.primary.endpoint().imapAdmin()) {
                users.forEach(u -> admin.create("user." + u));
            }
            deliver(pipeline.primary, mail, users, senders);
            Map<String, Map<String, String>> expected;
            try (ImapClient admin = pipeline.primary.endpoint().imapAdmin()) {
                expected = state(admin, mailboxes);
            }
            if (expected.size() != users.size()) {
                throw new IllegalStateException(
                        "the primary has " + expected.size() + " of " + users.size() + " INBOXes");
            }
            LOG.info(
                    "backlog of {} deliveries ({} MB) in both sync logs; starting Cyrus's sync_client",
                    messages,
                    String.format("%.1f", mailBytes / 1e6));

            try (ImapClient probe = nativeReplica.endpoint().imapAdmin()) {
                long start = System.nanoTime();
                pipeline.primary.startSyncClient(CyrusInstance.DEFAULT_CHANNEL);
                nativeSeconds = (awaitEqual(probe, mailboxes, expected, "cyrus") - start) / 1e9;
            }
            pipeline.primary.stopSyncClient(CyrusInstance.DEFAULT_CHANNEL);
            LOG.info(
                    "cyrus caught up in {} s; starting mailstream's sync_client", String.format("%.2f", nativeSeconds));

            List<String> keys = recordKeys(mail);
            try (CommittedRecords changes = new CommittedRecords(pipeline.kafka.bootstrapServers(), Topics.CHANGES);
                    CommittedRecords feed =
                            new CommittedRecords(pipeline.kafka.bootstrapServers(), Topics.feed(Pipeline.CYRUS_TIER));
                    ImapClient probe = pipeline.replica.endpoint().imapAdmin()) {
                long start = System.nanoTime();
                pipeline.startCapturing();
                mailstreamSeconds = (awaitEqual(probe, mailboxes, expected, "mailstream") - start) / 1e9;
                Map<String, Long> inChanges = changes.await(keys, Duration.ofMinutes(1));
                Map<String, Long> inFeed = feed.await(keys, Duration.ofMinutes(1));
                firstChange = (keys.stream().mapToLong(inChanges::get).min().orElseThrow() - start) / 1e9;
                lastChange = (keys.stream().mapToLong(inChanges::get).max().orElseThrow() - start) / 1e9;
                lastFeed = (keys.stream().mapToLong(inFeed::get).max().orElseThrow() - start) / 1e9;
            }
        }

        double ratio = nativeSeconds / mailstreamSeconds;
        report.row(
                        "workload",
                        messages + " LMTP deliveries (" + String.format("%.1f", mailBytes / 1e6) + " MB, "
                                + largePercent + "% of 1-5 MB, the rest 2-50 KB) to " + userCount
                                + " users, delivered with replication stopped")
                .row(
                        "probe",
                        "SYNCGET MAILBOXES on the replica: UNIQUEID, LAST_UID, HIGHESTMODSEQ, SYNC_CRC of every INBOX")
                .row("cyrus sync_client", String.format("%.2f s", nativeSeconds))
                .row("mailstream", String.format("%.2f s", mailstreamSeconds))
                .row(
                        "ratio cyrus/mailstream",
                        String.format("%.2f (>= 1 means mailstream is as fast or faster)", ratio))
                .row(
                        "mailstream by hop",
                        String.format(
                                "first record in %s %.2f s, last %.2f s; last in %s %.2f s;"
                                        + " every mailbox equal %.2f s",
                                Topics.CHANGES,
                                firstChange,
                                lastChange,
                                Topics.feed(Pipeline.CYRUS_TIER),
                                lastFeed,
                                mailstreamSeconds));
        report.column("messages", messages)
                .column("users", userCount)
                .column("large_percent", largePercent)
                .column("mail_mb", String.format("%.1f", mailBytes / 1e6))
                .column("cyrus_s", String.format("%.2f", nativeSeconds))
                .column("mailstream_s", String.format("%.2f", mailstreamSeconds))
                .column("ratio", String.format("%.2f", ratio))
                .column("first_change_s", String.format("%.2f", firstChange))
                .column("last_change_s", String.format("%.2f", lastChange))
                .column("last_feed_s", String.format("%.2f", lastFeed));
        report.finish();
    }

    /** Polls the replica until every mailbox's compared fields equal the primary's; returns System.nanoTime then. */
    private static long awaitEqual(
            ImapClient replica, String mailboxes, Map<String, Map<String, String>> expected, String label)
            throws InterruptedException {
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        int polls = 0;
        while (true) {
            Map<String, Map<String, String>> seen;
            try {
                seen = state(replica, mailboxes);
            } catch (ImapException notThereYet) {
                seen = Map.of();
            }
            polls++;
            if (seen.equals(expected)) {
                long now = System.nanoTime();
                LOG.info("{}: every mailbox equal after {} polls", label, polls);
                return now;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        label + ": replica not equal after " + CONVERGE + ": " + seen + " against " + expected);
            }
            Thread.sleep(5);
        }
    }

    /** Mailbox name -> the compared fields, from SYNCGET MAILBOXES. */
    static Map<String, Map<String, String>> state(ImapClient admin, String mailboxes) {
        Map<String, Map<String, String>> out = new TreeMap<>();
        for (byte[] raw : admin.syncGet(mailboxes)) {
            String line = new String(raw, StandardCharsets.UTF_8);
            Matcher name = MBOXNAME.matcher(line);
            if (!MAILBOX_LINE.matcher(line).find() || !name.find()) {
                continue;
            }
            Map<String, String> fields = new TreeMap<>();
            for (String key : COMPARED) {
                Matcher m = Pattern.compile("\\b" + key + " (\\S+?)[ )]").matcher(line);
                fields.put(key, m.find() ? m.group(1) : null);
            }
            out.put(name.group(1), fields);
        }
        return out;
    }

    /** {@link CommittedRecords#key} of every delivery: the k-th message to a user is UID k of its INBOX. */
    private static List<String> recordKeys(List<Mail.Delivery> mail) {
        Map<String, Integer> lastUid = new HashMap<>();
        List<String> keys = new ArrayList<>();
        for (Mail.Delivery d : mail) {
            keys.add(CommittedRecords.key("user." + d.user(), lastUid.merge(d.user(), 1, Integer::sum)));
        }
        return keys;
    }

    /** Delivers over {@code senders} LMTP connections, each serving a fixed set of users in order. */
    private static void deliver(CyrusInstance primary, List<Mail.Delivery> mail, List<String> users, int senders)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(senders);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int s = 0; s < senders; s++) {
                int sender = s;
                running.add(pool.submit(() -> {
                    try (LmtpClient lmtp = primary.endpoint().lmtp()) {
                        for (Mail.Delivery d : mail) {
                            if (users.indexOf(d.user()) % senders == sender) {
                                lmtp.deliver("sender" + d.index() + "@example.org", List.of(d.user()), d.message());
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
