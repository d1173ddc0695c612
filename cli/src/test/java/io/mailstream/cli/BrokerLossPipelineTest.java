package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.sinks.StoreReader;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.KafkaCluster;
import io.mailstream.testkit.LmtpClient;
import io.mailstream.testkit.MessageFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline on a real three-broker KRaft cluster (each broker a JVM of its own, topics with
 * replication 3 and min ISR 2): during a burst of LMTP deliveries to a real Cyrus primary, the
 * broker leading the busiest partitions of {@code mailstream.changes} is killed with SIGKILL.
 * Capture, streams and both sinks carry on with two brokers; the replica and the store end
 * identical to the primary, with no message twice. The kill point is a count of deliveries LMTP
 * acknowledged, not a time.
 */
class BrokerLossPipelineTest {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerLossPipelineTest.class);
    private static final List<String> USERS = IntStream.rangeClosed(1, 12)
            .mapToObj(i -> String.format("user%02d", i))
            .toList();
    private static final int DELIVERIES = 300;
    /** The broker dies right after LMTP acknowledged this many deliveries of the burst. */
    private static final int KILL_AFTER = 100;

    private static final Duration CONVERGE = Duration.ofMinutes(5);

    @TempDir
    static Path dir;

    static PipelineLab lab;
    static final MessageFactory mail = new MessageFactory(314);

    @BeforeAll
    static void start() throws Exception {
        lab = PipelineLab.onCluster(
                dir, USERS, KafkaCluster.builder(dir.resolve("kafka")).nodes(3));
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    @Test
    void theBrokerLeadingTheBusiestPartitionsKilledMidBurstLosesAndDuplicatesNothing() throws Exception {
        try (ImapClient admin = lab.primary.endpoint().imapAdmin()) {
            USERS.forEach(u -> admin.create("user." + u));
        }
        assertThat(topicReplication(Topics.CHANGES))
                .as("replicas and min ISR of %s", Topics.CHANGES)
                .isEqualTo("3/2");

        int victim = -1;
        try (LmtpClient lmtp = lab.primary.endpoint().lmtp()) {
            for (int i = 0; i < DELIVERIES; i++) {
                deliver(lmtp, i);
                if (i + 1 == KILL_AFTER) {
                    Map<Integer, Long> recordsLed = lab.cluster.recordsLedPerBroker(Topics.CHANGES);
                    victim = recordsLed.entrySet().stream()
                            .max(Map.Entry.comparingByValue())
                            .orElseThrow()
                            .getKey();
                    LOG.info(
                            "after {} deliveries, records of {} per leader: {}; killing broker {}",
                            KILL_AFTER,
                            Topics.CHANGES,
                            recordsLed,
                            victim);
                    assertThat(recordsLed.get(victim))
                            .as("records led by the victim")
                            .isPositive();
                    lab.cluster.kill(victim);
                }
            }
        }
        // Everything below runs with two of the three brokers: once the controller has fenced the
        // dead one (broker.session.timeout.ms), the others lead all its partitions.
        int dead = victim;
        await().atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> !lab.cluster.leaders(Topics.CHANGES).contains(dead));

        lab.assertReplicaIdentical(USERS, CONVERGE);
        assertEveryDeliveryOnceOnTheReplica();
        lab.awaitTierCaughtUp("oob");
        try (ImapClient primary = lab.primary.endpoint().imapAdmin()) {
            assertThat(SameMail.storeDifferences(primary, StoreReader.open(lab.storeDir()), USERS))
                    .as("store vs primary")
                    .isEmpty();
        }

        // The killed broker comes back on its log and catches up: every partition in sync again.
        lab.cluster.start(victim);
        int restarted = victim;
        await().atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> lab.cluster.partitionsOutOfSync(Topics.CHANGES, restarted) == 0);
    }

    /** Each delivery is UID k of its recipient's INBOX on the primary, and on the replica exactly once. */
    private static void assertEveryDeliveryOnceOnTheReplica() {
        try (ImapClient primary = lab.primary.endpoint().imapAdmin();
                ImapClient replica = lab.replica.endpoint().imapAdmin()) {
            for (String user : USERS) {
                List<String> onPrimary = inbox(primary, user);
                assertThat(onPrimary).as("INBOX of %s on the primary", user).hasSize(DELIVERIES / USERS.size());
                assertThat(inbox(replica, user))
                        .as("INBOX of %s on the replica", user)
                        .doesNotHaveDuplicates()
                        .containsExactlyInAnyOrderElementsOf(onPrimary);
            }
        }
    }

    /** UID/GUID of each live record of the user (who has nothing but an INBOX). */
    private static List<String> inbox(ImapClient admin, String user) {
        List<String> out = new ArrayList<>();
        for (Mailbox m : SameMail.fullMailboxes(admin, user)) {
            for (MessageRecord r : m.records()) {
                if (!r.isExpunged()) out.add(r.uid() + "/" + r.guid().hex());
            }
        }
        return out;
    }

    /** Mostly 1-40 KB, one in 50 of about 1 MB (several content chunks), round robin over the users. */
    private static void deliver(LmtpClient lmtp, int i) {
        String to = USERS.get(i % USERS.size());
        int size = i % 50 == 7 ? 1_000_000 + i * 1_000 : 1_000 + (i * 7919) % 40_000;
        lmtp.deliver(
                "sender" + i + "@example.org",
                List.of(to),
                mail.message(i, size, "sender" + i + "@example.org", to + "@mailstream.test", "message " + i));
    }

    /** "replicas/min ISR" of a topic as the cluster reports it. */
    private static String topicReplication(String topic) throws Exception {
        try (Admin admin = Admin.create(KafkaClients.adminProps(lab.bootstrapServers()))) {
            int replicas = admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .get(topic)
                    .partitions()
                    .get(0)
                    .replicas()
                    .size();
            var resource = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
            String minIsr = admin.describeConfigs(List.of(resource))
                    .all()
                    .get(30, TimeUnit.SECONDS)
                    .get(resource)
                    .get("min.insync.replicas")
                    .value();
            return replicas + "/" + minIsr;
        }
    }
}
