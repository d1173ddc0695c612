package io.mailstream.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.testkit.ChildJvm;
import io.mailstream.testkit.ImapSnapshot;
import io.mailstream.testkit.LmtpClient;
import io.mailstream.testkit.MessageFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Cyrus replica sink killed (SIGKILL, in a child JVM) while its feed ends in the middle of a
 * mailbox change, as it does when streams commits between a capture transaction's events: between
 * two chunks of a body, or between the records and their header. The sink has applied what was
 * there and has nothing more to do; it dies; the rest of the change arrives; a new sink must bring
 * the replica to the source's state. Repeated, with the two cuts in turn, on a real Cyrus replica
 * and the real broker.
 */
class SinkKilledMidChangeTest {
    private static final String USER = "alice";
    private static final int ROUNDS = 6;
    private static final Duration CONVERGE = Duration.ofSeconds(90);

    @TempDir
    static Path dir;

    static ChildSinkLab lab;
    static final MessageFactory mail = new MessageFactory(3);

    @BeforeAll
    static void start() {
        lab = new ChildSinkLab(dir, List.of(USER), Map.of("tier.dc2.sessions", "1"));
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    @Test
    void aSinkKilledWithHalfAChangeAppliedLosesNothingOfIt() throws Exception {
        Set<String> bodiesSent = new HashSet<>();
        for (int round = 0; round < ROUNDS; round++) {
            deliver(round);
            List<ChangeEvent> events = lab.sourceState(USER);
            boolean betweenChunks = round % 2 == 0;
            int cut = betweenChunks ? betweenChunksOfANewBody(events, bodiesSent) : beforeTheHeader(events);
            String where = "round " + round + ", feed cut "
                    + (betweenChunks ? "between two chunks of a body" : "between records and header");
            try (ChildSinkLab.FeedWriter feed = lab.feedWriter()) {
                feed.write(events.subList(0, cut));
            }

            Path idle = dir.resolve("idle-" + round);
            try (ChildJvm first =
                    sink("sink-mid-change-" + round + "-first", "-Dmailstream.sink.idle-marker=" + idle)) {
                await().atMost(CONVERGE)
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> Files.exists(idle) || !first.isAlive());
                assertThat(first.isAlive())
                        .as("%s: the sink is idle, not gone: %s", where, first.log())
                        .isTrue();
                first.kill();
            }
            try (ChildSinkLab.FeedWriter feed = lab.feedWriter()) {
                feed.write(events.subList(cut, events.size()));
            }
            try (ChildJvm second = sink("sink-mid-change-" + round + "-second")) {
                assertReplicaIdentical(where, second);
                // Nothing left behind: the lane did not stay stuck on the change.
                await().atMost(CONVERGE)
                        .pollInterval(Duration.ofMillis(200))
                        .alias(where + ": the whole feed committed")
                        .until(lab::caughtUp);
                second.terminate(); // leaves the group, so that the next round's sink need not wait out its session
            }
            events.stream()
                    .filter(e -> e.getPayload() instanceof MessageContent)
                    .forEach(e -> bodiesSent.add(((MessageContent) e.getPayload()).getGuid()));
        }
    }

    /** One body of three chunks (the chunker cuts at 256 KiB) and one small, to the user's INBOX. */
    private static void deliver(int round) {
        try (LmtpClient lmtp = lab.source.endpoint().lmtp()) {
            for (int size : new int[] {700_000, 2_000}) {
                String to = USER + "@mailstream.test";
                lmtp.deliver(
                        "sender@example.org",
                        List.of(to),
                        mail.message(round * 2 + size, size, "sender@example.org", to, "round " + round));
            }
        }
    }

    /** After the second chunk of a body the replica has not had yet. */
    private static int betweenChunksOfANewBody(List<ChangeEvent> events, Set<String> bodiesSent) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).getPayload() instanceof MessageContent c
                    && c.getChunkIndex() == 1
                    && c.getChunkCount() > 2
                    && !bodiesSent.contains(c.getGuid())) {
                return i + 1;
            }
        }
        throw new AssertionError("no new multi-chunk body in " + events.size() + " events");
    }

    /** Right before the first mailbox header, so the feed ends with its records. */
    private static int beforeTheHeader(List<ChangeEvent> events) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).getPayload() instanceof MailboxUpsert) return i;
        }
        throw new AssertionError("no mailbox header in " + events.size() + " events");
    }

    private static ChildJvm sink(String name, String... jvmOptions) {
        List<String> options = new ArrayList<>(List.of("-Xmx256m"));
        options.addAll(List.of(jvmOptions));
        return lab.startSink(name, options);
    }

    private static void assertReplicaIdentical(String where, ChildJvm sink) {
        List<String> difference = new ArrayList<>();
        try {
            await().atMost(CONVERGE).pollInterval(Duration.ofSeconds(1)).until(() -> {
                difference.clear();
                try {
                    String d = ImapSnapshot.take(lab.source.endpoint(), USER)
                            .describeDifferences(ImapSnapshot.take(lab.replica.endpoint(), USER));
                    if (d != null) difference.add(d);
                } catch (RuntimeException e) {
                    // ManageSieve refuses a user whose mailbox has not reached the replica yet.
                    difference.add(e.toString());
                }
                return difference.isEmpty();
            });
        } catch (ConditionTimeoutException e) {
            assertThat(difference)
                    .as("%s: replica vs source after %s (sink log %s)", where, CONVERGE, sink.log())
                    .isEmpty();
        }
    }
}
