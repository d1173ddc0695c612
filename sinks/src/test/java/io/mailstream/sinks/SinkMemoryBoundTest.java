package io.mailstream.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.testkit.ChildJvm;
import io.mailstream.testkit.ImapSnapshot;
import io.mailstream.testkit.LmtpClient;
import io.mailstream.testkit.MessageFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Cyrus replica sink in a 256 MiB heap with the default buffer (32 MiB), its replica down, while
 * a feed backlog of 2 GiB piles up: the sink must hold only its buffer in memory, pausing the feed,
 * and catch up once the replica is back. One user's mailbox is a single change larger than the
 * buffer, which must pass rather than wait for a header the paused feed cannot bring. The backlog
 * is the users' whole state asserted again and again, as capture does after changes, so that the
 * replica's disk is not what the test measures.
 */
class SinkMemoryBoundTest {
    private static final Logger LOG = LoggerFactory.getLogger(SinkMemoryBoundTest.class);
    /** MiB of mail per user, in messages of 2 MiB: erin's INBOX alone exceeds the buffer. */
    private static final Map<String, Integer> USERS = Map.of("erin", 36, "frank", 12, "grace", 12, "heidi", 12);

    private static final int REPEATS = 29;
    private static final Duration CATCH_UP = Duration.ofMinutes(10);

    @TempDir
    static Path dir;

    static ChildSinkLab lab;

    @BeforeAll
    static void start() {
        lab = new ChildSinkLab(dir, USERS.keySet(), Map.of("tier.dc2.sessions", "2"));
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    @Test
    void aBacklogManyTimesTheHeapToADownReplicaStaysInKafkaAndCatchesUp() throws Exception {
        MessageFactory mail = new MessageFactory(8);
        try (LmtpClient lmtp = lab.source.endpoint().lmtp()) {
            int i = 0;
            for (var user : USERS.entrySet()) {
                String to = user.getKey() + "@mailstream.test";
                for (int m = 0; m < user.getValue() / 2; m++, i++) {
                    lmtp.deliver(
                            "sender@example.org",
                            List.of(to),
                            mail.message(i, 2 << 20, "sender@example.org", to, "big " + i));
                }
            }
        }
        lab.replica.stop();
        try (ChildJvm sink = lab.startSink("sink-memory-bound", List.of("-Xmx256m"))) {
            long backlog = produceBacklog();
            assertThat(backlog).as("backlog bytes").isGreaterThan(2L << 30);
            LOG.info("backlog of {} MiB written with the replica down", backlog >> 20);
            // The sink has filled its buffer with the replica down and holds the rest in Kafka.
            await().atMost(CATCH_UP)
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> sink.output().contains("fetching paused")
                            || !sink.isAlive()
                            || sink.output().contains("OutOfMemoryError"));
            assertThat(sink.output())
                    .as("sink log %s", sink.log())
                    .doesNotContain("OutOfMemoryError")
                    .contains("fetching paused");
            assertThat(sink.isAlive()).isTrue();

            lab.replica.start();
            long replicaBack = System.nanoTime();
            try {
                await().atMost(CATCH_UP)
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> !sink.isAlive() || lab.caughtUp());
            } catch (ConditionTimeoutException e) {
                throw new AssertionError("the sink did not catch up in " + CATCH_UP + ": " + sink.log(), e);
            }
            LOG.info(
                    "caught up {} s after the replica came back",
                    Duration.ofNanos(System.nanoTime() - replicaBack).toSeconds());
            assertThat(sink.output()).as("sink log %s", sink.log()).doesNotContain("OutOfMemoryError");
            assertThat(sink.isAlive())
                    .as("sink alive after catching up: %s", sink.log())
                    .isTrue();
        }
        for (String user : USERS.keySet()) {
            assertThat(ImapSnapshot.take(lab.source.endpoint(), user)
                            .describeDifferences(ImapSnapshot.take(lab.replica.endpoint(), user)))
                    .as("replica of %s", user)
                    .isNull();
        }
    }

    /** Every user's whole state, {@link #REPEATS} times over, one transaction each; returns the bytes written. */
    private static long produceBacklog() throws Exception {
        long bytes = 0;
        try (ChildSinkLab.FeedWriter feed = lab.feedWriter()) {
            for (String user : USERS.keySet()) {
                List<byte[]> values = new ArrayList<>();
                for (ChangeEvent e : lab.sourceState(user)) values.add(feed.encode(e));
                for (int r = 0; r < REPEATS; r++) bytes += feed.write(user, values);
            }
        }
        return bytes;
    }
}
