package io.mailstream.bench;

import io.mailstream.core.kafka.Topics;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.ImapException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replication lag as a user sees it, measured the way the Cyrus lab measured Cyrus itself
 * (cyrus-lab scripts/measure.py lag): the clock starts before an IMAP APPEND to the primary, and
 * the replica is polled with STATUS every 5 ms until the message is there. Once with Cyrus's own
 * sync_client straight to a replica, and once through the whole mailstream pipeline (primary ->
 * capture -> Kafka -> streams -> Cyrus replica sink, with a store tier running too), both with
 * sync_repeat_interval 0 on the same machine, so the cost of going through Kafka shows. For
 * mailstream, consumers of mailstream.changes and of the replica's feed also note when the
 * message became readable there, which splits the lag by hop.
 */
public final class LagBench {
    private static final Logger LOG = LoggerFactory.getLogger(LagBench.class);
    private static final String USER = "lag";
    private static final String FOLDER = "INBOX.Lag";
    private static final String MAILBOX = "user." + USER + ".Lag";
    private static final String REPLICA = "replica";
    /** Unrecorded appends first, so the first samples do not time connection setup and JIT warm-up. */
    private static final int WARMUP_APPENDS = 3;

    private static final Duration VISIBLE_TIMEOUT = Duration.ofMinutes(2);

    private LagBench() {}

    public static void main(String[] args) throws Exception {
        Args options = Args.parse(args, "samples");
        int samples = options.integer("samples", 50);
        Report report = new Report("lag");
        List<String> users = List.of(USER);

        Stats cyrus;
        try (CyrusInstance replica =
                        Pipeline.withUsers(CyrusInstance.replica(), users).start();
                CyrusInstance primary = Pipeline.withUsers(CyrusInstance.primary(), users)
                        .syncTo(replica)
                        .syncRepeatInterval(0)
                        .start()) {
            primary.startSyncClient(CyrusInstance.DEFAULT_CHANNEL);
            cyrus = Stats.of(measure("cyrus sync_client", primary, replica, samples, Map.of())
                    .get(REPLICA));
        }
        Map<String, List<Double>> mailstream;
        try (Pipeline pipeline = Pipeline.toTiers(users);
                CommittedRecords changes = new CommittedRecords(pipeline.kafka.bootstrapServers(), Topics.CHANGES);
                CommittedRecords feed =
                        new CommittedRecords(pipeline.kafka.bootstrapServers(), Topics.feed(Pipeline.CYRUS_TIER))) {
            Map<String, CommittedRecords> hops = new LinkedHashMap<>();
            hops.put(Topics.CHANGES, changes);
            hops.put(Topics.feed(Pipeline.CYRUS_TIER), feed);
            mailstream = measure("mailstream", pipeline.primary, pipeline.replica, samples, hops);
        }

        Stats throughKafka = Stats.of(mailstream.get(REPLICA));
        report.row(
                        "method",
                        "APPEND on the primary -> STATUS UIDNEXT on the replica changes (polled every 5 ms); " + samples
                                + " samples, 0.2-1.3 s apart, after " + WARMUP_APPENDS + " unrecorded appends")
                .row("cyrus sync_client (ms)", cyrus.percentiles("%.0f"));
        mailstream.forEach((place, lags) ->
                report.row("mailstream: " + place, Stats.of(lags).percentiles("%.0f")));
        report.row("mailstream - cyrus p50", String.format("%+.0f ms", throughKafka.p50() - cyrus.p50()));
        report.column("samples", samples)
                .percentileColumns("cyrus_ms", cyrus, "%.0f")
                .percentileColumns("mailstream_ms", throughKafka, "%.0f")
                .column(
                        "changes_p50_ms",
                        String.format(
                                "%.0f", Stats.of(mailstream.get(Topics.CHANGES)).p50()))
                .column(
                        "feed_p50_ms",
                        String.format(
                                "%.0f",
                                Stats.of(mailstream.get(Topics.feed(Pipeline.CYRUS_TIER)))
                                        .p50()));
        report.finish();
    }

    /**
     * {@code samples} appends; per place, the milliseconds from each APPEND until the message was
     * readable there: each of {@code hops} (topic name -> its consumer), then the replica.
     */
    private static Map<String, List<Double>> measure(
            String label, CyrusInstance primary, CyrusInstance replica, int samples, Map<String, CommittedRecords> hops)
            throws InterruptedException {
        try (ImapClient admin = primary.endpoint().imapAdmin()) {
            admin.create("user." + USER);
        }
        Map<String, List<Double>> lags = new LinkedHashMap<>();
        hops.keySet().forEach(topic -> lags.put(topic, new ArrayList<>()));
        lags.put(REPLICA, new ArrayList<>());
        // The random phase against the sync_client's 100 ms poll loop is measure.py's too.
        Random random = new Random(7);
        try (ImapClient writer = primary.endpoint().imap(USER);
                ImapClient reader = replica.endpoint().imap(USER)) {
            writer.create(FOLDER);
            long deadline = System.nanoTime() + VISIBLE_TIMEOUT.toNanos();
            while (uidNext(reader) < 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            label + ": " + FOLDER + " not on the replica after " + VISIBLE_TIMEOUT);
                }
                Thread.sleep(50);
            }
            for (int i = -WARMUP_APPENDS; i < samples; i++) {
                Thread.sleep(200 + random.nextInt(1100));
                long before = uidNext(reader);
                byte[] message = ("Subject: lag " + i + "\r\nMessage-ID: <lag" + i + "." + System.nanoTime()
                                + "@bench>\r\n\r\nx\r\n")
                        .getBytes(StandardCharsets.US_ASCII);
                long start = System.nanoTime();
                long uid = writer.append(FOLDER, List.of(), null, message);
                while (uidNext(reader) == before) {
                    if (System.nanoTime() - start > VISIBLE_TIMEOUT.toNanos()) {
                        throw new IllegalStateException(
                                label + ": append " + i + " not on the replica after " + VISIBLE_TIMEOUT);
                    }
                    Thread.sleep(5);
                }
                long visible = System.nanoTime();
                if (i < 0) {
                    continue;
                }
                for (Map.Entry<String, CommittedRecords> hop : hops.entrySet()) {
                    String key = CommittedRecords.key(MAILBOX, uid);
                    long seen =
                            hop.getValue().await(List.of(key), VISIBLE_TIMEOUT).get(key);
                    lags.get(hop.getKey()).add((seen - start) / 1e6);
                }
                lags.get(REPLICA).add((visible - start) / 1e6);
                LOG.info(
                        "{} sample {}: visible on the replica after {} ms",
                        label,
                        i,
                        String.format("%.1f", (visible - start) / 1e6));
            }
        }
        return lags;
    }

    /** The folder's UIDNEXT on the replica, or -1 while the replica does not have it yet. */
    private static long uidNext(ImapClient replica) {
        try {
            return replica.status(FOLDER, "UIDNEXT").get("UIDNEXT");
        } catch (ImapException notThereYet) {
            return -1;
        }
    }
}
