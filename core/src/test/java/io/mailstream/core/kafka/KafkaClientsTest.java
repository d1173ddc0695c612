package io.mailstream.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The process's kafka.client.* settings reach every kind of client, under what the guarantees need. */
class KafkaClientsTest {
    private static final Map<String, String> SASL = Map.of(
            "security.protocol",
            "SASL_SSL",
            "sasl.mechanism",
            "SCRAM-SHA-512",
            "ssl.truststore.location",
            "/etc/mailstream/truststore.p12");

    @AfterEach
    void reset() {
        KafkaClients.useClientSettings(Map.of());
    }

    @Test
    void everyClientGetsTheSettingsAndKeepsItsGuarantees() {
        KafkaClients.useClientSettings(SASL);
        for (Map<String, Object> props : java.util.List.of(
                KafkaClients.adminProps("k:9093"),
                KafkaClients.producerProps("k:9093", "tx-1", 1 << 20),
                KafkaClients.consumerProps("k:9093", "g"),
                KafkaClients.common("k:9093"))) {
            assertThat(props).containsAllEntriesOf(SASL).containsEntry("bootstrap.servers", "k:9093");
        }
        assertThat(KafkaClients.producerProps("k:9093", "tx-1", 1 << 20))
                .containsEntry("acks", "all")
                .containsEntry("enable.idempotence", true)
                .containsEntry("transactional.id", "tx-1");
        assertThat(KafkaClients.consumerProps("k:9093", "g"))
                .containsEntry("isolation.level", "read_committed")
                .containsEntry("enable.auto.commit", false);
    }
}
