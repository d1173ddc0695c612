package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.core.kafka.EmbeddedKafka;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code promote --initial} names the first primary, once; the switch from a running primary is not built yet. */
class PromoteCommandTest {
    @TempDir
    Path dir;

    private Map<String, String> env(String bootstrap) {
        return Map.ofEntries(
                Map.entry("MAILSTREAM_DATA_DIR", dir.resolve("data").toString()),
                Map.entry("MAILSTREAM_KAFKA_BOOTSTRAP_SERVERS", bootstrap),
                Map.entry("MAILSTREAM_KAFKA_TOPIC_PARTITIONS", "3"),
                Map.entry("MAILSTREAM_KAFKA_TOPIC_REPLICATION_FACTOR", "1"),
                Map.entry("MAILSTREAM_KAFKA_TOPIC_MIN_INSYNC_REPLICAS", "1"),
                Map.entry("MAILSTREAM_TIERS", "dc1,dc2,oob"),
                Map.entry("MAILSTREAM_TIER_DC1_TYPE", "cyrus"),
                Map.entry("MAILSTREAM_TIER_DC1_CYRUS_ADDRESS", "127.0.0.1:2101"),
                Map.entry("MAILSTREAM_TIER_DC2_TYPE", "cyrus"),
                Map.entry("MAILSTREAM_TIER_DC2_CYRUS_ADDRESS", "127.0.0.1:2102"),
                Map.entry("MAILSTREAM_TIER_OOB_TYPE", "store"));
    }

    @Test
    void theFirstPromotionWinsOnceAndStatusShowsTheRoles() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
            Cli status = new Cli(env(kafka.bootstrapServers()));
            assertThat(status.run("status")).as(status.err()).isZero();
            assertThat(status.out())
                    .contains("primary: none; every capture refuses until 'mailstream promote --tier NAME --initial'");

            Cli first = new Cli(env(kafka.bootstrapServers()));
            assertThat(first.run("promote", "--tier", "dc1", "--initial"))
                    .as(first.err())
                    .isZero();
            assertThat(first.out()).contains("mailstream promote: tier dc1 is primary at epoch 1");

            Cli second = new Cli(env(kafka.bootstrapServers()));
            assertThat(second.run("promote", "--tier", "dc2", "--initial")).isEqualTo(Main.FAILURE);
            assertThat(second.err())
                    .contains("mailstream promote: refused, nothing changed: tier 'dc1' is already primary at epoch 1");

            Cli after = new Cli(env(kafka.bootstrapServers()));
            assertThat(after.run("status")).as(after.err()).isZero();
            assertThat(after.out())
                    .contains("primary: tier dc1 at epoch 1\n")
                    .contains("  dc1: primary since epoch 1\n");
        }
    }

    @Test
    void aStoreTierOrAnUnknownTierCannotBePromotedAndNothingIsStarted() {
        Cli store = new Cli(env("127.0.0.1:1"));
        assertThat(store.run("promote", "--tier", "oob", "--initial")).isEqualTo(Main.USAGE);
        assertThat(store.err()).contains("--tier oob: a store tier cannot be primary");
        Cli unknown = new Cli(env("127.0.0.1:1"));
        assertThat(unknown.run("promote", "--tier", "dc9", "--initial")).isEqualTo(Main.USAGE);
        assertThat(unknown.err()).contains("--tier dc9: not a configured tier");
    }

    @Test
    void aSwitchFromARunningPrimaryIsNotImplementedYetAndStartsNothing() {
        Cli cli = new Cli(Map.of(
                "MAILSTREAM_DATA_DIR",
                dir.toString(),
                "MAILSTREAM_TIERS",
                "dc2",
                "MAILSTREAM_TIER_DC2_TYPE",
                "cyrus",
                "MAILSTREAM_TIER_DC2_CYRUS_ADDRESS",
                "127.0.0.1:2102"));
        assertThat(cli.run("promote", "--tier", "dc2")).isEqualTo(Main.USAGE);
        assertThat(cli.err()).isEqualTo("mailstream promote (switching from a running primary): not implemented yet\n");
        assertThat(dir.resolve("kafka")).doesNotExist();
    }
}
