package io.mailstream.bench;

import io.mailstream.core.kafka.Topics;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.LmtpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Capture throughput and latency: LMTP deliveries into a real Cyrus primary whose mailstream
 * channel (sync_client -R -O, sync_repeat_interval 0) pushes to capture on the embedded broker.
 * Measures deliveries/s and MB/s from the first delivery until every message is committed in
 * mailstream.changes (and the sync log is drained), and per message the time from LMTP's 250 to
 * its record being readable (read_committed) in mailstream.changes.
 */
public final class CaptureBench {
    private static final Duration CONVERGE = Duration.ofMinutes(15);

    private CaptureBench() {}

    public static void main(String[] args) throws Exception {
        Args options = Args.parse(args, "messages", "users", "senders", "large-percent", "pace-ms");
        int messages = options.integer("messages", 500);
        int userCount = options.integer("users", 20);
        int senders = options.integer("senders", 2);
        int largePercent = options.integer("large-percent", 5);
        int paceMs = options.integer("pace-ms", 0);
        Report report = new Report("capture");
        List<String> users = Mail.users(userCount);
        // Built before the clock starts: composing 5 MB messages is the benchmark's work, not Cyrus's.
        List<Mail.Delivery> mail = Mail.deliveries(messages, users, largePercent);
        long mailBytes = mail.stream().mapToLong(d -> d.message().length).sum();

        try (Pipeline pipeline = Pipeline.toChanges(users)) {
            try (ImapClient admin = pipeline.primary.endpoint().imapAdmin()) {
                users.forEach(u -> admin.create("user." + u));
            }
            pipeline.primary.awaitSyncLogDrained(CyrusInstance.MAILSTREAM_CHANNEL, Duration.ofMinutes(2));
            try (CommittedRecords committed = new CommittedRecords(pipeline.kafka.bootstrapServers(), Topics.CHANGES)) {
                long start = System.nanoTime();
                Map<String, Accepted> accepted = deliver(pipeline.primary, mail, users, senders, paceMs);
                Map<String, Long> seen = committed.await(accepted.keySet(), CONVERGE);
                pipeline.primary.awaitSyncLogDrained(CyrusInstance.MAILSTREAM_CHANNEL, CONVERGE);
                long end = accepted.keySet().stream().mapToLong(seen::get).max().orElseThrow();
                double seconds = (end - start) / 1e9;

                List<Double> latencyMs = new ArrayList<>();
                List<Double> lmtpMs = new ArrayList<>();
                accepted.forEach((key, a) -> {
                    latencyMs.add((seen.get(key) - a.acceptedAt()) / 1e6);
                    lmtpMs.add((a.acceptedAt() - a.sentAt()) / 1e6);
                });
                Stats latency = Stats.of(latencyMs);
                Stats lmtp = Stats.of(lmtpMs);
                report.row(
                                "workload",
                                messages + " LMTP deliveries (" + String.format("%.1f", mailBytes / 1e6) + " MB, "
                                        + largePercent + "% of 1-5 MB, the rest 2-50 KB) to " + userCount
                                        + " users over "
                                        + senders + " LMTP connections, "
                                        + (paceMs == 0 ? "unpaced" : paceMs + " ms pause after each delivery"))
                        .row(
                                "end to end",
                                String.format(
                                        "%.1f s: %.1f deliveries/s, %.2f MB/s",
                                        seconds, messages / seconds, mailBytes / 1e6 / seconds))
                        .row("250 -> committed (ms)", latency.percentiles("%.0f"))
                        .row("LMTP DATA -> 250 (ms)", lmtp.percentiles("%.0f"))
                        .row(
                                "mailstream.changes",
                                committed.events() + " events, " + String.format("%.1f", committed.bytes() / 1e6)
                                        + " MB");
                report.column("messages", messages)
                        .column("users", userCount)
                        .column("senders", senders)
                        .column("pace_ms", paceMs)
                        .column("mail_mb", String.format("%.1f", mailBytes / 1e6))
                        .column("seconds", String.format("%.1f", seconds))
                        .column("deliveries_s", String.format("%.2f", messages / seconds))
                        .column("mb_s", String.format("%.2f", mailBytes / 1e6 / seconds))
                        .percentileColumns("latency_ms", latency, "%.0f")
                        .column("lmtp_p50_ms", String.format("%.0f", lmtp.p50()))
                        .column("events", committed.events());
            }
        }
        report.finish();
    }

    /** When one delivery's DATA went out and when its 250 came back (System.nanoTime). */
    private record Accepted(long sentAt, long acceptedAt) {}

    /**
     * Delivers everything over {@code senders} parallel LMTP connections, each serving a fixed set
     * of users in order, so the k-th message for a user is UID k of that user's new INBOX. With
     * {@code paceMs} 0 they send as fast as Cyrus accepts: the latency then includes queueing
     * behind earlier messages; a pause shows the latency of a lightly loaded pipeline.
     * Returns the times per {@link CommittedRecords#key}.
     */
    private static Map<String, Accepted> deliver(
            CyrusInstance primary, List<Mail.Delivery> mail, List<String> users, int senders, int paceMs)
            throws Exception {
        Map<String, Accepted> accepted = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(senders);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int s = 0; s < senders; s++) {
                int sender = s;
                running.add(pool.submit(() -> {
                    Map<String, Integer> lastUid = new HashMap<>();
                    try (LmtpClient lmtp = primary.endpoint().lmtp()) {
                        for (Mail.Delivery d : mail) {
                            if (users.indexOf(d.user()) % senders != sender) {
                                continue;
                            }
                            long sent = System.nanoTime();
                            lmtp.deliver("sender" + d.index() + "@example.org", List.of(d.user()), d.message());
                            long done = System.nanoTime();
                            int uid = lastUid.merge(d.user(), 1, Integer::sum);
                            accepted.put(CommittedRecords.key("user." + d.user(), uid), new Accepted(sent, done));
                            Thread.sleep(paceMs);
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
        return accepted;
    }
}
