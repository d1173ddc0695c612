package io.mailstream.core.kafka;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The one place Kafka client settings are built: every producer, consumer, admin client and
 * Kafka Streams instance of mailstream starts from {@link #common}, so the operator's
 * {@code kafka.client.*} settings (security protocol, SASL, trust stores) reach all of them,
 * and what mailstream's guarantees need (acks, idempotence, isolation) is set on top.
 */
public final class KafkaClients {
    private KafkaClients() {}

    /**
     * The {@code kafka.client.*} properties of this process. Process-wide because one process
     * talks to one cluster as one identity; set once at start, before any client is made.
     */
    private static volatile Map<String, String> clientSettings = Map.of();

    public static void useClientSettings(Map<String, String> settings) {
        clientSettings = Map.copyOf(settings);
    }

    public static Map<String, String> clientSettings() {
        return clientSettings;
    }

    /** Bootstrap servers plus the process's client settings: the base of every client's properties. */
    public static Map<String, Object> common(String bootstrapServers) {
        Map<String, Object> p = new HashMap<>(clientSettings);
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return p;
    }

    public static Map<String, Object> adminProps(String bootstrapServers) {
        Map<String, Object> p = common(bootstrapServers);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return p;
    }

    /** Idempotent, acks=all; pass a transactional id for exactly-once writes (null for none). */
    public static Map<String, Object> producerProps(
            String bootstrapServers, String transactionalId, int maxRecordBytes) {
        Map<String, Object> p = common(bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRecordBytes + 64 * 1024);
        if (transactionalId != null) {
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        }
        return p;
    }

    /** read_committed, manual commits, starting from the earliest offset for a new group. */
    public static Map<String, Object> consumerProps(String bootstrapServers, String groupId) {
        Map<String, Object> p = common(bootstrapServers);
        if (groupId != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return p;
    }
}
