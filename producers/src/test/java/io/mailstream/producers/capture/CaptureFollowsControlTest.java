package io.mailstream.producers.capture;

import static io.mailstream.producers.capture.CaptureActionScriptTest.payloads;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.control.ControlTopic;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.TierRole;
import io.mailstream.schemas.codec.SchemaResolver;
import io.mailstream.testkit.MessageFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A capture follows mailstream.control live: while its tier is not the primary (no tier yet, or
 * another one) it answers every APPLY of a real Cyrus 3.6.1 sync_client with NO, so Cyrus keeps
 * the changes in its sync log; once its tier is promoted, Cyrus's own retry delivers all of them,
 * each once, stamped with the tier and the epoch they were captured under. Demoted, it refuses
 * again; promoted once more, it takes up a new producer for the new epoch.
 */
class CaptureFollowsControlTest {
    @TempDir
    Path tmp;

    @Test
    void aCaptureThatIsNotThePrimarysAnswersNoAndAfterItsTierIsPromotedCyrusDeliversEverything() throws Exception {
        Map<String, String> users = CaptureRecoveryTest.users(3);
        try (CaptureLab lab = new CaptureLab(tmp, users)) {
            ControlTopic control = new ControlTopic(lab.kafka.bootstrapServers(), SchemaResolver.none());
            // Two Cyrus tiers, so no capture makes itself primary: an operator decides.
            MailstreamConfig config = lab.config(tmp.resolve("data"))
                    .with(Map.of(
                            "tiers",
                            "dc1,dc2",
                            "tier.dc1.type",
                            "cyrus",
                            "tier.dc1.cyrus.address",
                            "127.0.0.1:1",
                            "tier.dc2.type",
                            "cyrus",
                            "tier.dc2.cyrus.address",
                            "127.0.0.1:2",
                            "capture.tier",
                            "dc2"));
            try (Capture capture = Capture.start(config, lab.kafka.bootstrapServers(), lab.metrics, e -> {})) {
                assertThat(control.primary())
                        .as("a capture of a Cyrus tier assigns nothing by itself")
                        .isEmpty();
                CaptureRecoveryTest.createInboxes(lab, users.keySet());
                MessageFactory messages = new MessageFactory(5);
                Set<String> appended = new HashSet<>();
                List<String> names = List.copyOf(users.keySet());
                for (int i = 0; i < 6; i++) {
                    appended.add(CaptureRecoveryTest.append(lab, messages, names.get(i % names.size()), i));
                }
                lab.startSyncClient();

                // No primary at all: refused.
                awaitMoreRefusals(lab, 0);
                assertThat(lab.events()).isEmpty();
                assertThat(lab.cyrus.isSyncLogDrained(CaptureLab.CHANNEL)).isFalse();

                // Another tier is primary: still refused, still nothing in Kafka.
                control.promoteInitial("dc1", "dc1", "test", "first promotion");
                double refusedBefore = refusals(lab);
                for (int i = 6; i < 9; i++) {
                    appended.add(CaptureRecoveryTest.append(lab, messages, names.get(i % names.size()), i));
                }
                awaitMoreRefusals(lab, refusedBefore);
                assertThat(lab.events()).isEmpty();
                assertThat(lab.cyrus.isSyncLogDrained(CaptureLab.CHANNEL)).isFalse();

                // This capture's tier is promoted: Cyrus's retry delivers everything it kept.
                control.promote("dc2", 1, TierRole.REPLICA, "dc2", "test", "planned");
                lab.restartSyncClientIfGone();
                lab.awaitDrained();

                CaptureRecoveryTest.assertEveryMessageCaptured(lab, users.keySet(), appended);
                List<ChangeEvent> events = lab.events();
                assertThat(events).allSatisfy(e -> {
                    assertThat(e.getEnvelope().getTier()).isEqualTo("dc2");
                    assertThat(e.getEnvelope().getEpoch()).isEqualTo(2);
                });
                Map<String, Long> bodies = payloads(events, MessageContent.class).stream()
                        .collect(Collectors.groupingBy(
                                c -> c.getGuid() + "/" + c.getChunkIndex(), Collectors.counting()));
                assertThat(bodies)
                        .hasSize(appended.size())
                        .allSatisfy((guid, count) -> assertThat(count).as(guid).isEqualTo(1));
                assertThat(capture.isFenced()).isFalse();

                // Demoted (dc1 promoted, fencing this capture's producer at the broker): refused again.
                control.promote("dc1", 2, TierRole.REPLICA, "dc1", "test", "planned back");
                refusedBefore = refusals(lab);
                int before = lab.events().size();
                for (int i = 9; i < 12; i++) {
                    appended.add(CaptureRecoveryTest.append(lab, messages, names.get(i % names.size()), i));
                }
                awaitMoreRefusals(lab, refusedBefore);
                assertThat(lab.events()).hasSize(before);

                // Promoted again: a new producer for the new epoch, and Cyrus delivers what it kept meanwhile.
                control.promote("dc2", 3, TierRole.REPLICA, "dc2", "test", "planned again");
                lab.restartSyncClientIfGone();
                lab.awaitDrained();
                CaptureRecoveryTest.assertEveryMessageCaptured(lab, users.keySet(), appended);
                assertThat(lab.events().subList(before, lab.events().size()))
                        .isNotEmpty()
                        .allSatisfy(e -> {
                            assertThat(e.getEnvelope().getTier()).isEqualTo("dc2");
                            assertThat(e.getEnvelope().getEpoch()).isEqualTo(4);
                        });
                assertThat(capture.isFenced()).isFalse();
                lab.cyrus.killSyncClient(CaptureLab.CHANNEL);
            }
        }
    }

    private static double refusals(CaptureLab lab) {
        var counter = lab.metrics
                .find("mailstream.capture.refused")
                .tag("code", "NOT_PRIMARY")
                .counter();
        return counter == null ? 0 : counter.count();
    }

    /** sync_client tried again and was refused: the refusal counter passed {@code before}. */
    private static void awaitMoreRefusals(CaptureLab lab, double before) throws Exception {
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    lab.restartSyncClientIfGone();
                    return refusals(lab) > before;
                });
    }
}
