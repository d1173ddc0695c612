package io.mailstream.core.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MailstreamConfigTest {
    @TempDir
    Path dir;

    @Test
    void environmentOverridesFileWhichOverridesDefaults() throws Exception {
        Path file = dir.resolve("m.properties");
        Files.writeString(file, "site=dc9\ntiers=dc2\ntier.dc2.type=cyrus\ntier.dc2.cyrus.address=10.0.0.1:2005\n"
                + "capture.auth.password=s3cret\n");
        MailstreamConfig config = MailstreamConfig.load(file, true, Map.of(
                "MAILSTREAM_KAFKA_BOOTSTRAP_SERVERS", "k1:9092",
                "MAILSTREAM_TIER_DC2_CYRUS_ADDRESS", "replica:2005"));
        assertThat(config.get(ConfigKeys.SITE)).isEqualTo("dc9");
        assertThat(config.get(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS)).isEqualTo("k1:9092");
        assertThat(config.embeddedKafka()).isFalse();
        assertThat(config.get(ConfigKeys.TIER_CYRUS_ADDRESS, "dc2")).isEqualTo("replica:2005");
        assertThat(config.get(ConfigKeys.TIER_TYPE, "dc2")).isEqualTo(ConfigKeys.TierType.CYRUS);
        assertThat(config.get(ConfigKeys.CAPTURE_LISTEN)).isEqualTo("127.0.0.1:2005");
        assertThat(config.describe()).containsEntry("capture.auth.password", "******")
                .containsEntry("tier.dc2.cyrus.address", "replica:2005")
                .containsKey("tier.dc2.users");
    }

    @Test
    void badValuesNameTheKey() {
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("tiers", "dc2", "tier.dc2.type", "tape")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("tier.dc2.type").hasMessageContaining("tape");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("tiers", "dc2", "tier.dc2.type", "cyrus")))
                .hasMessageContaining("tier.dc2.cyrus.address");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("kafka.topic.partitions", "many")))
                .hasMessageContaining("kafka.topic.partitions").hasMessageContaining("integer");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("tier.dc3.type", "store")))
                .hasMessageContaining("tier.dc3.type").hasMessageContaining("not listed in 'tiers'");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("tiers", "dc2", "tier.dc2.type", "cyrus",
                "tier.dc2.cyrus.address", "replica:2005", "tier.dc2.content", "reference")))
                .hasMessageContaining("tier.dc2.content").hasMessageContaining("use 'inline'");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("tiers", "dc2")))
                .hasMessageContaining("tier.dc2.type is required");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("tiers", "oob", "tier.oob.type", "store", "capture.tier", "oob")))
                .hasMessageContaining("capture.tier").hasMessageContaining("'oob' is a store tier");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("capture.tier", "dc 1")))
                .hasMessageContaining("capture.tier").hasMessageContaining("not a valid tier name");
    }

    @Test
    void missingExplicitFileIsAnError() {
        assertThatThrownBy(() -> MailstreamConfig.load(dir.resolve("nope.properties"), true, Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("does not exist");
    }
}
