package io.mailstream.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.KafkaClients;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Kafka Streams gets the kafka.client.* settings at the top level, which it hands to all of its clients. */
class StreamsClientSettingsTest {
    @AfterEach
    void reset() {
        KafkaClients.useClientSettings(Map.of());
    }

    @Test
    void streamsPropertiesCarryTheClientSettingsAndExactlyOnce() {
        MailstreamConfig config = MailstreamConfig.of(Map.of(
                "kafka.bootstrap.servers",
                "k:9093",
                "kafka.client.security.protocol",
                "SASL_SSL",
                "kafka.client.sasl.mechanism",
                "SCRAM-SHA-512"));
        KafkaClients.useClientSettings(config.kafkaClientProperties());
        Properties p = MailstreamStreams.properties(config, "k:9093");
        assertThat(p)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("bootstrap.servers", "k:9093")
                .containsEntry("processing.guarantee", "exactly_once_v2");
    }
}
