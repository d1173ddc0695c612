package io.mailstream.bench;

import io.mailstream.core.kafka.Topics;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.KafkaCluster;
import io.mailstream.testkit.LmtpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What broker faults cost the pipeline, on a real three-broker KRaft cluster (one JVM per broker,
 * topics with replication 3 and min ISR 2) under a steady stream of LMTP deliveries to a real
 * Cyrus primary, through capture, streams and both sinks. The faults happen at fixed delivery
 * counts, on a thread of their own so that deliveries go on meanwhile:
 * <ol>
 * <li>SIGKILL to the broker leading the most records of mailstream.changes (A);</li>
 * <li>SIGKILL to the busiest of the other two (B): one broker left, below min ISR and without a
 * controller quorum, so writes stop (capture answers NO IMAP_AGAIN, Cyrus keeps its log);</li>
 * <li>B started again;</li>
 * <li>A started again.</li>
 * </ol>
 * For the deliveries accepted after each fault (until the next one), the table shows the
 * longest time from LMTP's 250 to readable in mailstream.changes and in the dc2 feed, against
 * the median before any fault: the pause that fault caused.
 */
public final class BrokerFaultBench {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerFaultBench.class);
    private static final Duration CONVERGE = Duration.ofMinutes(15);

    private BrokerFaultBench() {}

    private record Accepted(String key, long at) {}

    /** A fault: {@code restart} when it brings a broker back rather than taking one away. */
    private record Fault(String name, boolean restart, int afterDelivery, long issuedAt, long doneAt) {}

    public static void main(String[] args) throws Exception {
        Args options =
                Args.parse(args, "messages", "users", "pace-ms", "large-percent", "fast-failover", "second-down");
        int messages = options.integer("messages", 600);
        int userCount = options.integer("users", 12);
        int paceMs = options.integer("pace-ms", 100);
        int largePercent = options.integer("large-percent", 2);
        boolean fast = options.integer("fast-failover", 0) != 0;
        int secondDown = options.integer("second-down", 50);
        int killA = messages / 6;
        int killB = messages * 5 / 12;
        int startB = killB + secondDown;
        int startA = messages * 2 / 3;
        if (!(killA < killB && startB < startA && startA < messages)) {
            throw new IllegalArgumentException(
                    "--second-down " + secondDown + " does not fit in " + messages + " messages");
        }
        Report report = new Report("faults");
        List<String> users = Mail.users(userCount);
        List<Mail.Delivery> mail = Mail.deliveries(messages, users, largePercent);
        long mailBytes = mail.stream().mapToLong(d -> d.message().length).sum();

        try (Pipeline pipeline = Pipeline.toTiersOnCluster(users, dir -> {
            KafkaCluster.Builder b = KafkaCluster.builder(dir).nodes(3);
            return fast ? b.fastFailover() : b;
        })) {
            KafkaCluster cluster = pipeline.cluster;
            try (ImapClient admin = pipeline.primary.endpoint().imapAdmin()) {
                users.forEach(u -> admin.create("user." + u));
            }
            pipeline.primary.awaitSyncLogDrained(CyrusInstance.MAILSTREAM_CHANNEL, Duration.ofMinutes(2));
            List<Accepted> accepted = new ArrayList<>();
            List<Fault> faults = new ArrayList<>();
            ExecutorService faulter = Executors.newSingleThreadExecutor();
            int[] victims = new int[2];
            try (CommittedRecords changes = new CommittedRecords(pipeline.bootstrapServers(), Topics.CHANGES);
                    CommittedRecords feed =
                            new CommittedRecords(pipeline.bootstrapServers(), Topics.feed(Pipeline.CYRUS_TIER));
                    LmtpClient lmtp = pipeline.primary.endpoint().lmtp()) {
                Map<String, Integer> lastUid = new HashMap<>();
                List<Future<?>> pending = new ArrayList<>();
                for (Mail.Delivery d : mail) {
                    lmtp.deliver("sender" + d.index() + "@example.org", List.of(d.user()), d.message());
                    long at = System.nanoTime();
                    int uid = lastUid.merge(d.user(), 1, Integer::sum);
                    accepted.add(new Accepted(CommittedRecords.key("user." + d.user(), uid), at));
                    int n = d.index() + 1;
                    if (n == killA) {
                        pending.add(
                                fault(faulter, faults, "kill -9 broker A (leads the most records)", false, n, () -> {
                                    victims[0] = cluster.busiestLeader(Topics.CHANGES);
                                    LOG.info("killing broker A = {}", victims[0]);
                                    cluster.kill(victims[0]);
                                }));
                    } else if (n == killB) {
                        pending.add(fault(faulter, faults, "kill -9 broker B too (1 of 3 left)", false, n, () -> {
                            Map<Integer, Long> led = cluster.recordsLedPerBroker(Topics.CHANGES);
                            led.remove(victims[0]);
                            victims[1] = led.isEmpty()
                                    ? otherThan(cluster.brokers(), victims[0])
                                    : led.entrySet().stream()
                                            .max(Map.Entry.comparingByValue())
                                            .orElseThrow()
                                            .getKey();
                            LOG.info("killing broker B = {}", victims[1]);
                            cluster.kill(victims[1]);
                        }));
                    } else if (n == startB) {
                        pending.add(fault(
                                faulter, faults, "broker B started again", true, n, () -> cluster.start(victims[1])));
                    } else if (n == startA) {
                        pending.add(fault(
                                faulter, faults, "broker A started again", true, n, () -> cluster.start(victims[0])));
                    }
                    Thread.sleep(paceMs);
                }
                for (Future<?> f : pending) f.get();
                List<String> keys = accepted.stream().map(Accepted::key).toList();
                Map<String, Long> inChanges = changes.await(keys, CONVERGE);
                Map<String, Long> inFeed = feed.await(keys, CONVERGE);
                long end = System.nanoTime();

                double baseChanges = Stats.of(latencies(
                                accepted,
                                inChanges,
                                Long.MIN_VALUE,
                                faults.get(0).issuedAt()))
                        .p50();
                double baseFeed = Stats.of(latencies(
                                accepted, inFeed, Long.MIN_VALUE, faults.get(0).issuedAt()))
                        .p50();
                report.row(
                                "workload",
                                messages + " LMTP deliveries (" + String.format("%.1f", mailBytes / 1e6) + " MB, "
                                        + largePercent + "% of 1-5 MB) to " + userCount + " users, one connection, "
                                        + paceMs
                                        + " ms pause after each; 3 brokers ("
                                        + (fast ? "broker.session.timeout.ms 3000" : "default timeouts")
                                        + "), topics RF 3 / min ISR 2, 6 partitions")
                        .row(
                                "before any fault",
                                String.format(
                                        "250 -> changes p50 %.0f ms, -> dc2 feed p50 %.0f ms", baseChanges, baseFeed));
                report.column("messages", messages)
                        .column("users", userCount)
                        .column("pace_ms", paceMs)
                        .column("fast_failover", fast)
                        .column("second_down", secondDown)
                        .column("base_changes_p50_ms", String.format("%.0f", baseChanges))
                        .column("base_feed_p50_ms", String.format("%.0f", baseFeed));
                for (int i = 0; i < faults.size(); i++) {
                    Fault f = faults.get(i);
                    long until = i + 1 < faults.size() ? faults.get(i + 1).issuedAt() : end;
                    Stats c = Stats.of(latencies(accepted, inChanges, f.issuedAt(), until));
                    Stats fd = Stats.of(latencies(accepted, inFeed, f.issuedAt(), until));
                    double actionMs = (f.doneAt() - f.issuedAt()) / 1e6;
                    // A kill pauses from its start; a restart is judged by how soon writes flow once the broker is up.
                    double pauseChanges = (f.restart() ? 0 : actionMs) + firstAfter(inChanges, f.doneAt());
                    double pauseFeed = (f.restart() ? 0 : actionMs) + firstAfter(inFeed, f.doneAt());
                    double gapChanges = longestGap(inChanges, f.issuedAt(), until);
                    double gapFeed = longestGap(inFeed, f.issuedAt(), until);
                    report.row(
                            f.name() + " (after delivery " + f.afterDelivery() + ", took "
                                    + String.format("%.1f s", actionMs / 1e3) + ")",
                            String.format(
                                    "pause: next commit to changes %.1f s, to the dc2 feed %.1f s after the "
                                            + (f.restart() ? "broker was up" : "fault began") + "; "
                                            + "longest stretch without a commit until the next fault %.1f s / %.1f s; "
                                            + "%d deliveries until the next fault: 250 -> changes max %.1f s, -> dc2 feed max %.1f s",
                                    pauseChanges / 1e3,
                                    pauseFeed / 1e3,
                                    gapChanges / 1e3,
                                    gapFeed / 1e3,
                                    c.n(),
                                    c.max() / 1e3,
                                    fd.max() / 1e3));
                    report.column("fault" + (i + 1) + "_pause_changes_ms", String.format("%.0f", pauseChanges))
                            .column("fault" + (i + 1) + "_pause_feed_ms", String.format("%.0f", pauseFeed))
                            .column("fault" + (i + 1) + "_gap_changes_ms", String.format("%.0f", gapChanges))
                            .column("fault" + (i + 1) + "_gap_feed_ms", String.format("%.0f", gapFeed))
                            .column("fault" + (i + 1) + "_changes_max_ms", String.format("%.0f", c.max()))
                            .column("fault" + (i + 1) + "_feed_max_ms", String.format("%.0f", fd.max()))
                            .column("fault" + (i + 1) + "_action_ms", (f.doneAt() - f.issuedAt()) / 1_000_000);
                }
            } finally {
                faulter.shutdownNow();
            }
        }
        report.finish();
    }

    private static int otherThan(List<Integer> brokers, int id) {
        return brokers.stream().filter(b -> b != id).findFirst().orElseThrow();
    }

    private interface Action {
        void run() throws Exception;
    }

    private static Future<?> fault(
            ExecutorService faulter,
            List<Fault> faults,
            String name,
            boolean restart,
            int afterDelivery,
            Action action) {
        long issued = System.nanoTime();
        return faulter.submit(() -> {
            long started = System.nanoTime();
            action.run();
            synchronized (faults) {
                faults.add(new Fault(name, restart, afterDelivery, Math.max(issued, started), System.nanoTime()));
            }
            return null;
        });
    }

    /**
     * The longest stretch, in milliseconds, within [{@code from}, {@code until}) without a
     * delivery becoming readable (stretches cut at both ends): with deliveries paced, a healthy
     * hop has short ones, so a long one is a stall after the fault at {@code from}.
     */
    private static double longestGap(Map<String, Long> seen, long from, long until) {
        long[] times =
                seen.values().stream().mapToLong(Long::longValue).sorted().toArray();
        long longest = 0;
        for (int k = 0; k + 1 < times.length; k++) {
            if (times[k + 1] >= from && times[k] < until) {
                longest = Math.max(longest, Math.min(times[k + 1], until) - Math.max(times[k], from));
            }
        }
        return longest / 1e6;
    }

    /** Milliseconds from {@code at} to the first delivery readable after it (0 if none: nothing was waiting). */
    private static double firstAfter(Map<String, Long> seen, long at) {
        return seen.values().stream().mapToLong(Long::longValue).filter(t -> t >= at).min().stream()
                .mapToDouble(t -> (t - at) / 1e6)
                .findFirst()
                .orElse(0);
    }

    /** Milliseconds from 250 to first seen, for the deliveries accepted in [from, until). */
    private static List<Double> latencies(List<Accepted> accepted, Map<String, Long> seen, long from, long until) {
        List<Double> out = new ArrayList<>();
        for (Accepted a : accepted) {
            if (a.at() >= from && a.at() < until) out.add((seen.get(a.key()) - a.at()) / 1e6);
        }
        return out.isEmpty() ? List.of(0.0) : out;
    }
}
