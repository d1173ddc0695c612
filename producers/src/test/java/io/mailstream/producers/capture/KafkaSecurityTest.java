package io.mailstream.producers.capture;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.model.CsyncCommand;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A broker that authenticates with SASL SCRAM-SHA-512 and authorises with ACLs: capture, given
 * its credentials only through kafka.client.* keys, writes mailstream.changes; a user with read
 * rights only is refused with TopicAuthorizationException, a wrong password at authentication.
 * SASL_PLAINTEXT, not SASL_SSL: a TLS key store per run costs a keytool run and proves nothing
 * more about how mailstream passes the settings on.
 */
class KafkaSecurityTest {
    private static final String ADMIN_JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required"
            + " username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\";";

    @TempDir
    Path tmp;

    @AfterEach
    void noClientSettingsLeftForOtherTests() {
        KafkaClients.useClientSettings(Map.of());
    }

    private static Map<String, String> scram(String user, String password) {
        return Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "SCRAM-SHA-512",
                "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                        + user + "\" password=\"" + password + "\";");
    }

    private static Map<String, Object> clientProps(String bootstrap, Map<String, String> security) {
        Map<String, Object> p = new HashMap<>(security);
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    @Test
    void onlyCaptureMayWriteTheChangesTopic() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(tmp.resolve("kafka"), 0, (broker, controller) -> Map.ofEntries(
                Map.entry("listeners", "SASL_PLAINTEXT://127.0.0.1:" + broker + ",CONTROLLER://127.0.0.1:" + controller),
                Map.entry("advertised.listeners", "SASL_PLAINTEXT://127.0.0.1:" + broker),
                Map.entry("listener.security.protocol.map", "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"),
                Map.entry("inter.broker.listener.name", "SASL_PLAINTEXT"),
                Map.entry("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512"),
                Map.entry("sasl.mechanism.inter.broker.protocol", "PLAIN"),
                Map.entry("listener.name.sasl_plaintext.plain.sasl.jaas.config", ADMIN_JAAS),
                Map.entry("listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config",
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;"),
                Map.entry("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
                // the controller listener is plaintext on loopback: the node itself talks there
                Map.entry("super.users", "User:admin;User:ANONYMOUS"),
                Map.entry("allow.everyone.if.no.acl.found", "false")))) {
            String bootstrap = kafka.bootstrapServers();
            Map<String, String> admin = Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN",
                    "sasl.jaas.config", ADMIN_JAAS.replace(" user_admin=\"admin-secret\"", ""));
            try (Admin a = Admin.create(clientProps(bootstrap, admin))) {
                a.alterUserScramCredentials(List.of(
                        new UserScramCredentialUpsertion("capture", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), "capture-secret"),
                        new UserScramCredentialUpsertion("reader", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), "reader-secret")))
                        .all().get();
                a.createAcls(List.of(
                        allow("capture", ResourceType.TOPIC, "mailstream.", PatternType.PREFIXED, AclOperation.ALL),
                        allow("capture", ResourceType.TRANSACTIONAL_ID, "mailstream-capture-", PatternType.PREFIXED, AclOperation.ALL),
                        allow("capture", ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, AclOperation.IDEMPOTENT_WRITE),
                        allow("reader", ResourceType.TOPIC, Topics.CHANGES, PatternType.LITERAL, AclOperation.READ),
                        allow("reader", ResourceType.TOPIC, Topics.CHANGES, PatternType.LITERAL, AclOperation.DESCRIBE)))
                        .all().get();
            }
            Map<String, String> settings = new HashMap<>(Map.of(
                    "data.dir", tmp.resolve("data").toString(),
                    "kafka.bootstrap.servers", bootstrap,
                    "kafka.topic.partitions", "3", "kafka.topic.replication.factor", "1", "kafka.topic.min.insync.replicas", "1",
                    "capture.listen", "127.0.0.1:" + freePort(),
                    "capture.server.id", "secure-1",
                    "capture.auth.user", "admin", "capture.auth.password", "adminpw"));
            KafkaClients.useClientSettings(admin);
            TopicAdmin.ensureTopics(MailstreamConfig.of(settings), bootstrap);

            // Capture gets its identity only from kafka.client.*, as the command does.
            scram("capture", "capture-secret").forEach((k, v) -> settings.put("kafka.client." + k, v));
            MailstreamConfig config = MailstreamConfig.of(settings);
            assertThat(config.describe().get("kafka.client.sasl.jaas.config")).isEqualTo("******");
            assertThat(config.toString()).doesNotContain("capture-secret");
            KafkaClients.useClientSettings(config.kafkaClientProperties());
            try (Capture capture = Capture.start(config, bootstrap, new SimpleMeterRegistry(), e -> { });
                 CsyncClient primary = CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", capture.port(), "admin", "adminpw"))) {
                primary.execute(new CsyncCommand.ApplySub("alice", "user.alice.Lists"));
            }
            assertThat(endOffsets(bootstrap, scram("reader", "reader-secret"))).as("events in %s", Topics.CHANGES).isPositive();

            Map<String, Object> intruderProps = clientProps(bootstrap, scram("reader", "reader-secret"));
            // Not idempotent: an idempotent producer is already refused for its producer id (cluster rights),
            // before it names a topic; this one shows the refusal of the topic itself.
            intruderProps.put("enable.idempotence", false);
            intruderProps.put("acks", "1");
            try (KafkaProducer<byte[], byte[]> intruder = new KafkaProducer<>(intruderProps,
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                assertThatThrownBy(() -> intruder.send(new ProducerRecord<>(Topics.CHANGES, new byte[1], new byte[1])).get())
                        .isInstanceOf(ExecutionException.class).cause().isInstanceOf(TopicAuthorizationException.class)
                        .hasMessageContaining("Not authorized to access topics: [" + Topics.CHANGES + "]");
            }
            // A capture given the reader's identity does not start, and says which right it lacks.
            Map<String, String> readerSettings = new HashMap<>(settings);
            scram("reader", "reader-secret").forEach((k, v) -> readerSettings.put("kafka.client." + k, v));
            readerSettings.put("capture.server.id", "secure-2");
            MailstreamConfig readerConfig = MailstreamConfig.of(readerSettings);
            KafkaClients.useClientSettings(readerConfig.kafkaClientProperties());
            assertThatThrownBy(() -> Capture.start(readerConfig, bootstrap, new SimpleMeterRegistry(), e -> { }).close())
                    .satisfies(e -> org.slf4j.LoggerFactory.getLogger(KafkaSecurityTest.class)
                            .info("capture with read rights only: {}", e.toString()))
                    .hasStackTraceContaining("Not authorized to access");
            assertThatThrownBy(() -> endOffsets(bootstrap, scram("capture", "wrong")))
                    .isInstanceOf(SaslAuthenticationException.class).hasMessageContaining("SCRAM-SHA-512");
        }
    }

    private static AclBinding allow(String user, ResourceType type, String name, PatternType pattern, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW));
    }

    private static long endOffsets(String bootstrap, Map<String, String> security) {
        Map<String, Object> props = clientProps(bootstrap, security);
        props.put("isolation.level", "read_committed");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(Topics.CHANGES, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(Topics.CHANGES, p.partition())).toList();
            return c.endOffsets(parts, Duration.ofSeconds(30)).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
