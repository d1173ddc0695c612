package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.producers.capture.Capture;
import io.mailstream.sinks.SinkHandle;
import io.mailstream.sinks.Sinks;
import io.mailstream.sinks.StoreReader;
import io.mailstream.streams.MailstreamStreams;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
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

/**
 * A broker that authenticates with SASL SCRAM-SHA-512 and authorises with ACLs. Capture, streams
 * and a store sink each run as their own user with only the ACLs listed in README's "Secure
 * deployment", given their credentials only through kafka.client.* keys, and a change goes all the
 * way into the store; only capture may write mailstream.changes: a user with read rights is refused
 * with TopicAuthorizationException, a wrong password at authentication. SASL_PLAINTEXT, not
 * SASL_SSL: a TLS key store per run costs a keytool run and proves nothing more about how
 * mailstream passes the settings on.
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
        return Map.of(
                "security.protocol",
                "SASL_PLAINTEXT",
                "sasl.mechanism",
                "SCRAM-SHA-512",
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user + "\" password=\""
                        + password + "\";");
    }

    private static Map<String, Object> clientProps(String bootstrap, Map<String, String> security) {
        Map<String, Object> p = new HashMap<>(security);
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    @Test
    void onlyCaptureMayWriteTheChangesTopic() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(
                tmp.resolve("kafka"),
                0,
                (broker, controller) -> Map.ofEntries(
                        Map.entry(
                                "listeners",
                                "SASL_PLAINTEXT://127.0.0.1:" + broker + ",CONTROLLER://127.0.0.1:" + controller),
                        Map.entry("advertised.listeners", "SASL_PLAINTEXT://127.0.0.1:" + broker),
                        Map.entry(
                                "listener.security.protocol.map", "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"),
                        Map.entry("inter.broker.listener.name", "SASL_PLAINTEXT"),
                        Map.entry("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512"),
                        Map.entry("sasl.mechanism.inter.broker.protocol", "PLAIN"),
                        Map.entry("listener.name.sasl_plaintext.plain.sasl.jaas.config", ADMIN_JAAS),
                        Map.entry(
                                "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config",
                                "org.apache.kafka.common.security.scram.ScramLoginModule required;"),
                        Map.entry("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
                        // the controller listener is plaintext on loopback: the node itself talks there
                        Map.entry("super.users", "User:admin;User:ANONYMOUS"),
                        Map.entry("allow.everyone.if.no.acl.found", "false")))) {
            String bootstrap = kafka.bootstrapServers();
            Map<String, String> admin = Map.of(
                    "security.protocol",
                    "SASL_PLAINTEXT",
                    "sasl.mechanism",
                    "PLAIN",
                    "sasl.jaas.config",
                    ADMIN_JAAS.replace(" user_admin=\"admin-secret\"", ""));
            try (Admin a = Admin.create(clientProps(bootstrap, admin))) {
                List<org.apache.kafka.clients.admin.UserScramCredentialAlteration> users = new java.util.ArrayList<>();
                for (String user : List.of("capture", "streams", "sink-oob", "reader")) {
                    users.add(new UserScramCredentialUpsertion(
                            user, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), user + "-secret"));
                }
                a.alterUserScramCredentials(users).all().get();
                a.createAcls(acls()).all().get();
            }
            Map<String, String> settings = new HashMap<>(Map.ofEntries(
                    Map.entry("data.dir", tmp.resolve("data").toString()),
                    Map.entry("kafka.bootstrap.servers", bootstrap),
                    Map.entry("kafka.topic.partitions", "3"),
                    Map.entry("kafka.topic.replication.factor", "1"),
                    Map.entry("kafka.topic.min.insync.replicas", "1"),
                    Map.entry("capture.listen", "127.0.0.1:" + freePort()),
                    Map.entry("capture.server.id", "secure-1"),
                    Map.entry("capture.auth.user", "admin"),
                    Map.entry("capture.auth.password", "adminpw"),
                    Map.entry("tiers", "oob"),
                    Map.entry("tier.oob.type", "store")));
            KafkaClients.useClientSettings(admin);
            TopicAdmin.ensureTopics(MailstreamConfig.of(settings), bootstrap);
            // The operator names the first primary (as `mailstream promote --initial` does): capture's
            // user may read mailstream.control but not write it with the control writers' transactional id.
            try (var schemas =
                    new io.mailstream.schemas.codec.SchemaTopicRegistry(KafkaClients.adminProps(bootstrap))) {
                new io.mailstream.core.control.ControlTopic(bootstrap, schemas)
                        .promoteInitial("primary", "dc1", "operator", "first primary of a least-privilege setup");
            }

            // Capture gets its identity only from kafka.client.*, as the command does.
            MailstreamConfig config = as("capture", settings);
            assertThat(config.describe().get("kafka.client.sasl.jaas.config")).isEqualTo("******");
            assertThat(config.toString()).doesNotContain("capture-secret");
            // Each role makes its clients when it starts, with the identity set at that moment.
            try (Capture capture = Capture.start(config, bootstrap, new SimpleMeterRegistry(), e -> {});
                    MailstreamStreams streams = MailstreamStreams.build(as("streams", settings), bootstrap);
                    SinkHandle sink = startSink(as("sink-oob", settings), bootstrap)) {
                streams.start();
                try (CsyncClient primary =
                        CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", capture.port(), "admin", "adminpw"))) {
                    primary.execute(new CsyncCommand.ApplySub("alice", "user.alice.Lists"));
                }
                StoreReader store =
                        StoreReader.open(MailstreamConfig.of(settings).storeDir("oob"));
                org.awaitility.Awaitility.await()
                        .atMost(Duration.ofSeconds(120))
                        .untilAsserted(() -> assertThat(store.history("alice"))
                                .as("the change in the store")
                                .isNotEmpty());
                assertThat(sink.isRunning()).isTrue();
            }
            assertThat(endOffsets(bootstrap, scram("reader", "reader-secret")))
                    .as("events in %s", Topics.CHANGES)
                    .isPositive();

            Map<String, Object> intruderProps = clientProps(bootstrap, scram("reader", "reader-secret"));
            // Not idempotent: an idempotent producer is already refused for its producer id (cluster rights),
            // before it names a topic; this one shows the refusal of the topic itself.
            intruderProps.put("enable.idempotence", false);
            intruderProps.put("acks", "1");
            try (KafkaProducer<byte[], byte[]> intruder =
                    new KafkaProducer<>(intruderProps, new ByteArraySerializer(), new ByteArraySerializer())) {
                assertThatThrownBy(() -> intruder.send(new ProducerRecord<>(Topics.CHANGES, new byte[1], new byte[1]))
                                .get())
                        .isInstanceOf(ExecutionException.class)
                        .cause()
                        .isInstanceOf(TopicAuthorizationException.class)
                        .hasMessageContaining("Not authorized to access topics: [" + Topics.CHANGES + "]");
            }
            // A capture given the reader's identity does not start, and says which right it lacks.
            Map<String, String> readerSettings = new HashMap<>(settings);
            readerSettings.put("capture.server.id", "secure-2");
            MailstreamConfig readerConfig = as("reader", readerSettings);
            assertThatThrownBy(() -> Capture.start(readerConfig, bootstrap, new SimpleMeterRegistry(), e -> {})
                            .close())
                    .satisfies(e -> org.slf4j.LoggerFactory.getLogger(KafkaSecurityTest.class)
                            .info("capture with read rights only: {}", e.toString()))
                    .hasStackTraceContaining("Not authorized to access");
            assertThatThrownBy(() -> endOffsets(bootstrap, scram("capture", "wrong")))
                    .isInstanceOf(SaslAuthenticationException.class)
                    .hasMessageContaining("SCRAM-SHA-512");
        }
    }

    /** The configuration of one role, with its Kafka identity in kafka.client.*, made the process's client settings. */
    private static MailstreamConfig as(String user, Map<String, String> settings) {
        Map<String, String> mine = new HashMap<>(settings);
        scram(user, user + "-secret").forEach((k, v) -> mine.put("kafka.client." + k, v));
        MailstreamConfig config = MailstreamConfig.of(mine);
        KafkaClients.useClientSettings(config.kafkaClientProperties());
        return config;
    }

    private static SinkHandle startSink(MailstreamConfig config, String bootstrap) {
        return Sinks.start(config, bootstrap, "oob", new SimpleMeterRegistry());
    }

    /** What each role needs, and no more: the list README's "Secure deployment" gives. */
    private static List<AclBinding> acls() {
        List<AclBinding> acls = new java.util.ArrayList<>();
        // capture: writes changes (transactions), reads them back at start, the control topic and the schemas
        for (String topic : List.of(Topics.CHANGES, "mailstream.control", "mailstream.schemas")) {
            acls.add(allow("capture", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ));
            acls.add(allow("capture", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.WRITE));
            acls.add(allow("capture", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.DESCRIBE));
        }
        acls.add(allow(
                "capture",
                ResourceType.TRANSACTIONAL_ID,
                "mailstream-capture-",
                PatternType.PREFIXED,
                AclOperation.ALL));
        // streams: reads changes and control, writes feeds, state, dead letters, its content index and internal topics
        for (String topic : List.of(Topics.CHANGES, "mailstream.control")) {
            acls.add(allow("streams", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ));
            acls.add(allow("streams", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.DESCRIBE));
        }
        for (String topic : List.of(
                "mailstream.schemas",
                "mailstream.state",
                "mailstream.dlq",
                "mailstream.streams.content",
                Topics.STREAMS_CONTENT_REFERENCES)) {
            acls.add(allow("streams", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.ALL));
        }
        acls.add(allow("streams", ResourceType.TOPIC, "mailstream.feed.", PatternType.PREFIXED, AclOperation.ALL));
        acls.add(allow("streams", ResourceType.TOPIC, "mailstream-streams", PatternType.PREFIXED, AclOperation.ALL));
        acls.add(allow("streams", ResourceType.GROUP, "mailstream-streams", PatternType.PREFIXED, AclOperation.ALL));
        acls.add(allow(
                "streams",
                ResourceType.TRANSACTIONAL_ID,
                "mailstream-streams",
                PatternType.PREFIXED,
                AclOperation.ALL));
        // the sink of tier oob: reads its feed (its group), state and content for a backfill, writes progress
        for (String topic : List.of("mailstream.feed.oob", "mailstream.state", "mailstream.streams.content")) {
            acls.add(allow("sink-oob", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ));
            acls.add(allow("sink-oob", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.DESCRIBE));
        }
        for (String topic : List.of("mailstream.progress", "mailstream.schemas")) {
            acls.add(allow("sink-oob", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.ALL));
        }
        acls.add(allow("sink-oob", ResourceType.GROUP, "mailstream-sink-oob", PatternType.LITERAL, AclOperation.ALL));
        // reader: may read the changes, nothing else
        acls.add(allow("reader", ResourceType.TOPIC, Topics.CHANGES, PatternType.LITERAL, AclOperation.READ));
        acls.add(allow("reader", ResourceType.TOPIC, Topics.CHANGES, PatternType.LITERAL, AclOperation.DESCRIBE));
        return acls;
    }

    private static AclBinding allow(String user, ResourceType type, String name, PatternType pattern, AclOperation op) {
        return new AclBinding(
                new ResourcePattern(type, name, pattern),
                new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW));
    }

    private static long endOffsets(String bootstrap, Map<String, String> security) {
        Map<String, Object> props = clientProps(bootstrap, security);
        props.put("isolation.level", "read_committed");
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(Topics.CHANGES, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(Topics.CHANGES, p.partition()))
                    .toList();
            return c.endOffsets(parts, Duration.ofSeconds(30)).values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
