package io.mailstream.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.core.config.MailstreamConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Topics that exist before mailstream first starts (made by an operator, or auto-created by a
 * broker with its own defaults) are checked, not trusted: a history topic that expires after the
 * broker's 7 days would lose what rebuilds and audits read.
 */
class TopicSettingsTest {
    static final MailstreamConfig CONFIG = MailstreamConfig.of(Map.of("tiers", "oob", "tier.oob.type", "store"));

    @TempDir
    Path dir;

    EmbeddedKafka kafka;

    @BeforeEach
    void start() {
        kafka = EmbeddedKafka.start(dir, 0);
    }

    @AfterEach
    void stop() {
        if (kafka != null) kafka.close();
    }

    @Test
    void aChangesTopicAutoCreatedWithTheBrokersSevenDayRetentionIsRefusedAndNothingIsCreated() throws Exception {
        try (Admin admin = Admin.create(KafkaClients.adminProps(kafka.bootstrapServers()))) {
            // What auto.create.topics.enable would have made: the broker's defaults, 7 days of retention.
            admin.createTopics(List.of(
                            new NewTopic(Topics.CHANGES, 3, (short) 1),
                            new NewTopic(Topics.STATE, 3, (short) 1).configs(Map.of("cleanup.policy", "delete"))))
                    .all()
                    .get(30, TimeUnit.SECONDS);

            assertThatThrownBy(() -> TopicAdmin.ensureTopics(CONFIG, kafka.bootstrapServers()))
                    .isInstanceOf(TopicSettingsException.class)
                    .hasMessageContaining(
                            "topic mailstream.changes: retention.ms is 604800000, expected -1 (kept forever)")
                    .hasMessageContaining("topic mailstream.state: cleanup.policy is delete, expected compact");

            // Refused before anything was created: the operator fixes the topics, then starts again.
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
                    .doesNotContain(Topics.SCHEMAS, Topics.CONTROL, Topics.feed("oob"));

            admin.deleteTopics(List.of(Topics.CHANGES, Topics.STATE)).all().get(30, TimeUnit.SECONDS);
            awaitGone(admin, Set.of(Topics.CHANGES, Topics.STATE));
        }
        TopicAdmin.ensureTopics(CONFIG, kafka.bootstrapServers());
        // The topics it made itself pass its own check on the next start.
        TopicAdmin.ensureTopics(CONFIG, kafka.bootstrapServers());
    }

    @Test
    void fewerReplicasThanConfiguredAreRefused() {
        MailstreamConfig two = MailstreamConfig.of(Map.of(
                "tiers",
                "oob",
                "tier.oob.type",
                "store",
                "kafka.topic.replication.factor",
                "2",
                "kafka.topic.min.insync.replicas",
                "1"));
        TopicAdmin.ensureTopics(CONFIG, kafka.bootstrapServers());
        assertThatThrownBy(() -> TopicAdmin.ensureTopics(two, kafka.bootstrapServers()))
                .isInstanceOf(TopicSettingsException.class)
                .hasMessageContaining("topic mailstream.changes: replication factor is 1, expected at least 2");
    }

    @Test
    void stricterDurabilityPassesButUncleanElectionOrALooserPolicyDoesNot() {
        Topics.TopicSpec changes = spec(Topics.CHANGES);
        Map<String, String> effective = new HashMap<>(changes.configs());
        effective.put("min.insync.replicas", "3");
        assertThat(TopicAdmin.problems(changes, 5, effective)).isEmpty();

        effective.put(Topics.UNCLEAN_LEADER_ELECTION, "true");
        effective.put("retention.bytes", "1073741824");
        assertThat(TopicAdmin.problems(changes, 3, effective))
                .containsExactlyInAnyOrder(
                        "topic mailstream.changes: unclean.leader.election.enable is true, expected false",
                        "topic mailstream.changes: retention.bytes is 1073741824, expected -1 (kept forever)");

        Topics.TopicSpec control = spec(Topics.CONTROL);
        Map<String, String> compactAndDelete = new HashMap<>(control.configs());
        compactAndDelete.put("cleanup.policy", "compact,delete");
        assertThat(TopicAdmin.problems(control, 1, compactAndDelete))
                .containsExactly("topic mailstream.control: cleanup.policy is compact,delete, expected compact");

        Topics.TopicSpec feed = spec(Topics.feed("oob"));
        Map<String, String> foreverFeed = new HashMap<>(feed.configs());
        foreverFeed.put("retention.ms", "-1");
        assertThat(TopicAdmin.problems(feed, 1, foreverFeed)).isEmpty();
        foreverFeed.put("retention.ms", "3600000");
        assertThat(TopicAdmin.problems(feed, 1, foreverFeed))
                .containsExactly(
                        "topic mailstream.feed.oob: retention.ms is 3600000, expected at least 2592000000 or -1");
    }

    private static Topics.TopicSpec spec(String name) {
        Optional<Topics.TopicSpec> spec = Topics.required(CONFIG).stream()
                .filter(s -> s.name().equals(name))
                .findFirst();
        return spec.orElseThrow();
    }

    private static void awaitGone(Admin admin, Set<String> topics) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (admin.listTopics().names().get(30, TimeUnit.SECONDS).stream().anyMatch(topics::contains)) {
            assertThat(System.nanoTime())
                    .as("topics %s deleted within 30 s", topics)
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
