package io.mailstream.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MailstreamConfigTest {
    @TempDir
    Path dir;

    @Test
    void environmentOverridesFileWhichOverridesDefaults() throws Exception {
        Path file = dir.resolve("m.properties");
        Files.writeString(
                file,
                "site=dc9\ntiers=dc2\ntier.dc2.type=cyrus\ntier.dc2.cyrus.address=10.0.0.1:2005\n"
                        + "capture.auth.password=s3cret\n");
        MailstreamConfig config = MailstreamConfig.load(
                file,
                true,
                Map.of(
                        "MAILSTREAM_KAFKA_BOOTSTRAP_SERVERS", "k1:9092",
                        "MAILSTREAM_TIER_DC2_CYRUS_ADDRESS", "replica:2005"));
        assertThat(config.get(ConfigKeys.SITE)).isEqualTo("dc9");
        assertThat(config.get(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS)).isEqualTo("k1:9092");
        assertThat(config.embeddedKafka()).isFalse();
        assertThat(config.get(ConfigKeys.TIER_CYRUS_ADDRESS, "dc2")).isEqualTo("replica:2005");
        assertThat(config.get(ConfigKeys.TIER_TYPE, "dc2")).isEqualTo(ConfigKeys.TierType.CYRUS);
        assertThat(config.get(ConfigKeys.CAPTURE_LISTEN)).isEqualTo("127.0.0.1:2005");
        assertThat(config.describe())
                .containsEntry("capture.auth.password", "******")
                .containsEntry("tier.dc2.cyrus.address", "replica:2005")
                .containsKey("tier.dc2.users");
    }

    @Test
    void badValuesNameTheKey() {
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("tiers", "dc2", "tier.dc2.type", "tape")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("tier.dc2.type")
                .hasMessageContaining("tape");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("tiers", "dc2", "tier.dc2.type", "cyrus")))
                .hasMessageContaining("tier.dc2.cyrus.address");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("kafka.topic.partitions", "many")))
                .hasMessageContaining("kafka.topic.partitions")
                .hasMessageContaining("integer");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("tier.dc3.type", "store")))
                .hasMessageContaining("tier.dc3.type")
                .hasMessageContaining("not listed in 'tiers'");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of(
                        "tiers",
                        "dc2",
                        "tier.dc2.type",
                        "cyrus",
                        "tier.dc2.cyrus.address",
                        "replica:2005",
                        "tier.dc2.content",
                        "reference")))
                .hasMessageContaining("tier.dc2.content")
                .hasMessageContaining("use 'inline'");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("tiers", "dc2")))
                .hasMessageContaining("tier.dc2.type is required");
        assertThatThrownBy(() ->
                        MailstreamConfig.of(Map.of("tiers", "oob", "tier.oob.type", "store", "capture.tier", "oob")))
                .hasMessageContaining("capture.tier")
                .hasMessageContaining("'oob' is a store tier");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("capture.tier", "dc 1")))
                .hasMessageContaining("capture.tier")
                .hasMessageContaining("not a valid tier name");
    }

    @Test
    void missingExplicitFileIsAnError() {
        assertThatThrownBy(() -> MailstreamConfig.load(dir.resolve("nope.properties"), true, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("does not exist");
    }

    @Test
    void passwordsComeFromAFileAndNeverShowInOutput() throws Exception {
        Path secret = dir.resolve("capture.password");
        Files.writeString(secret, "from-the-file\nignored second line\n");
        MailstreamConfig config = MailstreamConfig.of(Map.of(
                "capture.auth.password.file",
                secret.toString(),
                "tiers",
                "dc2",
                "tier.dc2.type",
                "cyrus",
                "tier.dc2.cyrus.address",
                "r:2005",
                "tier.dc2.cyrus.password",
                "tier-secret"));
        assertThat(config.password(ConfigKeys.CAPTURE_AUTH_PASSWORD, ConfigKeys.CAPTURE_AUTH_PASSWORD_FILE, null))
                .isEqualTo("from-the-file");
        assertThat(config.password(ConfigKeys.TIER_CYRUS_PASSWORD, ConfigKeys.TIER_CYRUS_PASSWORD_FILE, "dc2"))
                .isEqualTo("tier-secret");
        assertThat(config.toString())
                .doesNotContain("tier-secret")
                .doesNotContain("from-the-file")
                .contains("tier.dc2.cyrus.address=r:2005");

        assertThatThrownBy(() -> MailstreamConfig.of(
                                Map.of("capture.auth.password.file", secret.toString(), "capture.auth.password", "x"))
                        .password(ConfigKeys.CAPTURE_AUTH_PASSWORD, ConfigKeys.CAPTURE_AUTH_PASSWORD_FILE, null))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("both capture.auth.password and capture.auth.password.file");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of(
                                "capture.auth.password.file",
                                dir.resolve("none").toString()))
                        .password(ConfigKeys.CAPTURE_AUTH_PASSWORD, ConfigKeys.CAPTURE_AUTH_PASSWORD_FILE, null))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("capture.auth.password.file: cannot read the password file");
    }

    @Test
    void unknownKeysThatLookLikeSecretsAreMasked() {
        MailstreamConfig config = MailstreamConfig.of(Map.of(
                "capture.auth.pasword",
                "typo-secret",
                "kafka.ssl.key.password",
                "kp",
                "sasl.jaas.config",
                "org.apache... password=\"x\";",
                "some.api.token",
                "tok",
                "site.label",
                "visible"));
        Map<String, String> shown = config.describe();
        assertThat(shown.get("capture.auth.pasword"))
                .doesNotContain("typo-secret")
                .startsWith("******");
        assertThat(shown.get("kafka.ssl.key.password")).startsWith("******");
        assertThat(shown.get("sasl.jaas.config")).startsWith("******");
        assertThat(shown.get("some.api.token")).startsWith("******");
        assertThat(shown.get("site.label")).startsWith("visible");
        assertThat(MailstreamConfig.looksSecret("kafka.client.ssl.truststore.location"))
                .isFalse();
        assertThat(MailstreamConfig.looksSecret("kafka.client.ssl.truststore.password"))
                .isTrue();
    }

    @Test
    void kafkaClientPropertiesPassThroughFromFileAndEnvironment() throws Exception {
        Path file = dir.resolve("m.properties");
        Files.writeString(
                file,
                "kafka.client.security.protocol=SASL_SSL\n"
                        + "kafka.client.ssl.truststore.location=/etc/mailstream/truststore.p12\n"
                        + "kafka.client.ssl.truststore.password=changeit\n");
        MailstreamConfig config = MailstreamConfig.load(
                file,
                true,
                Map.of(
                        "MAILSTREAM_KAFKA_CLIENT_SASL_MECHANISM", "SCRAM-SHA-512",
                        "MAILSTREAM_KAFKA_CLIENT_SASL_JAAS_CONFIG",
                                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"capture\" password=\"pw\";"));
        assertThat(config.kafkaClientProperties())
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("ssl.truststore.location", "/etc/mailstream/truststore.p12")
                .containsKey("sasl.jaas.config")
                .hasSize(5);
        assertThat(config.describe())
                .containsEntry("kafka.client.security.protocol", "SASL_SSL")
                .containsEntry("kafka.client.ssl.truststore.location", "/etc/mailstream/truststore.p12")
                .containsEntry("kafka.client.ssl.truststore.password", "******")
                .containsEntry("kafka.client.sasl.jaas.config", "******")
                .doesNotContainKey("kafka.client.<property>");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("kafka.client.acks", "1")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.client.acks: mailstream sets this itself");
        assertThatThrownBy(() -> MailstreamConfig.of(Map.of("kafka.client.bootstrap.servers", "x:9092")))
                .hasMessageContaining("use kafka.bootstrap.servers");
    }
}
