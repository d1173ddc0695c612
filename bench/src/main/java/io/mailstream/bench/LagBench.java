package io.mailstream.bench;

import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.ImapException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Replication lag as a user sees it, measured the way the Cyrus lab measured Cyrus itself
 * (cyrus-lab scripts/measure.py lag): the clock starts before an IMAP APPEND to the primary, and
 * the replica is polled with STATUS every 5 ms until the message is there. Once through the whole
 * mailstream pipeline (primary -> capture -> Kafka -> streams -> Cyrus replica sink, with a store
 * tier running too), and once with Cyrus's own sync_client straight to a replica, both with
 * sync_repeat_interval 0 on the same machine, so the cost of going through Kafka shows.
 */
public final class LagBench {
    private static final Logger LOG = LoggerFactory.getLogger(LagBench.class);
    private static final String USER = "lag";
    private static final String FOLDER = "INBOX.Lag";
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
        try (CyrusInstance replica = Pipeline.withUsers(CyrusInstance.replica(), users).start();
             CyrusInstance primary = Pipeline.withUsers(CyrusInstance.primary(), users).syncTo(replica)
                     .syncRepeatInterval(0).start()) {
            primary.startSyncClient(CyrusInstance.DEFAULT_CHANNEL);
            cyrus = measure("cyrus sync_client", primary, replica, samples);
        }
        Stats mailstream;
        try (Pipeline pipeline = Pipeline.toTiers(users)) {
            mailstream = measure("mailstream", pipeline.primary, pipeline.replica, samples);
        }

        report.row("method", "APPEND on the primary -> STATUS UIDNEXT on the replica changes (polled every 5 ms); "
                        + samples + " samples, 0.2-1.3 s apart, after " + WARMUP_APPENDS + " unrecorded appends")
                .row("cyrus sync_client (ms)", cyrus.percentiles("%.0f"))
                .row("mailstream (ms)", mailstream.percentiles("%.0f"))
                .row("mailstream - cyrus p50", String.format("%+.0f ms", mailstream.p50() - cyrus.p50()));
        report.column("samples", samples)
                .percentileColumns("cyrus_ms", cyrus, "%.0f")
                .percentileColumns("mailstream_ms", mailstream, "%.0f");
        report.finish();
    }

    /** APPEND -> visible on the replica, in milliseconds, {@code samples} times. */
    private static Stats measure(String label, CyrusInstance primary, CyrusInstance replica, int samples)
            throws InterruptedException {
        try (ImapClient admin = primary.endpoint().imapAdmin()) {
            admin.create("user." + USER);
        }
        List<Double> lags = new ArrayList<>();
        // The random phase against the sync_client's 100 ms poll loop is measure.py's too.
        Random random = new Random(7);
        try (ImapClient writer = primary.endpoint().imap(USER); ImapClient reader = replica.endpoint().imap(USER)) {
            writer.create(FOLDER);
            long deadline = System.nanoTime() + VISIBLE_TIMEOUT.toNanos();
            while (uidNext(reader) < 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(label + ": " + FOLDER + " not on the replica after " + VISIBLE_TIMEOUT);
                }
                Thread.sleep(50);
            }
            for (int i = -WARMUP_APPENDS; i < samples; i++) {
                Thread.sleep(200 + random.nextInt(1100));
                long before = uidNext(reader);
                byte[] message = ("Subject: lag " + i + "\r\nMessage-ID: <lag" + i + "." + System.nanoTime()
                        + "@bench>\r\n\r\nx\r\n").getBytes(StandardCharsets.US_ASCII);
                long start = System.nanoTime();
                writer.append(FOLDER, List.of(), null, message);
                while (uidNext(reader) == before) {
                    if (System.nanoTime() - start > VISIBLE_TIMEOUT.toNanos()) {
                        throw new IllegalStateException(label + ": append " + i + " not on the replica after " + VISIBLE_TIMEOUT);
                    }
                    Thread.sleep(5);
                }
                double ms = (System.nanoTime() - start) / 1e6;
                if (i >= 0) {
                    lags.add(ms);
                    LOG.info("{} sample {}: visible on the replica after {} ms", label, i, String.format("%.1f", ms));
                }
            }
        }
        return Stats.of(lags);
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
