package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.producers.capture.Capture;
import io.mailstream.sinks.SinkHandle;
import io.mailstream.sinks.Sinks;
import io.mailstream.streams.MailstreamStreams;
import io.mailstream.streams.StatusReport;
import io.mailstream.testkit.ChildJvm;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapActionScript;
import io.mailstream.testkit.KafkaCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole pipeline in this JVM, as {@code mailstream run} wires it, between two real Cyrus
 * servers: a primary whose {@code mailstream} channel (sync_client -R -O) pushes to capture, the
 * embedded broker, streams, a Cyrus replica sink (tier dc2, an empty replica's sync_server) and a
 * store sink (tier oob).
 */
final class PipelineLab implements AutoCloseable {
    static final String ADMIN_PASSWORD = "adminpw";
    /** http.listen for tests: a free port, so that test runs side by side never compete for the default one. */
    static final String ANY_PORT = "127.0.0.1:0";

    final Path dir;
    final Map<String, String> users;
    private final List<String> imapdOptions;
    final CyrusInstance primary;
    final CyrusInstance replica;
    /** The in-process broker; null when the lab runs on a {@link #cluster}. */
    final EmbeddedKafka kafka;
    /** A multi-broker cluster in JVMs of its own, or null. */
    final KafkaCluster cluster;

    private final String bootstrap;
    final MailstreamConfig config;
    private final Map<String, String> settings;
    private final Capture capture;
    private MailstreamStreams streams;
    SinkHandle dc2;
    SinkHandle oob;

    PipelineLab(Path dir, Map<String, String> users) throws IOException {
        this(dir, users, List.of());
    }

    /** {@code imapdOptions}: extra imapd.conf lines for both Cyrus servers, e.g. {@code "allowusermoves: yes"}. */
    PipelineLab(Path dir, Map<String, String> users, List<String> imapdOptions) throws IOException {
        this(dir, users, imapdOptions, null);
    }

    /**
     * A lab on a multi-broker cluster ({@code cluster}, started here) instead of the embedded
     * broker; mailstream's topics then get the cluster defaults (replication 3, min ISR 2).
     */
    static PipelineLab onCluster(Path dir, List<String> users, KafkaCluster.Builder cluster) throws IOException {
        return new PipelineLab(dir, passwords(users), List.of(), cluster);
    }

    private PipelineLab(
            Path dir, Map<String, String> users, List<String> imapdOptions, KafkaCluster.Builder clusterBuilder)
            throws IOException {
        CyrusInstance.requireCyrus();
        this.dir = dir;
        this.users = users;
        this.imapdOptions = List.copyOf(imapdOptions);
        List<AutoCloseable> started = new ArrayList<>();
        try {
            int capturePort = freePort();
            replica = track(started, withUsers(CyrusInstance.replica()).start());
            // The primary serves csync too, so that 'mailstream check' can read it (capture.primary.address).
            primary = track(
                    started,
                    withUsers(CyrusInstance.primary())
                            .mailstreamTarget("127.0.0.1", capturePort)
                            .syncRepeatInterval(0)
                            .serveCsync()
                            .start());
            if (clusterBuilder == null) {
                kafka = track(started, EmbeddedKafka.start(dir.resolve("kafka"), 0));
                cluster = null;
                bootstrap = kafka.bootstrapServers();
            } else {
                kafka = null;
                cluster = track(started, clusterBuilder.start());
                bootstrap = cluster.bootstrapServers();
            }
            settings = settings(capturePort);
            config = MailstreamConfig.of(settings);
            TopicAdmin.ensureTopics(config, bootstrap);
            capture = track(started, Capture.start(config, bootstrap, new SimpleMeterRegistry(), e -> {}));
            streams = track(started, MailstreamStreams.build(config, bootstrap));
            streams.start();
            dc2 = track(started, Sinks.start(config, bootstrap, "dc2"));
            oob = track(started, Sinks.start(config, bootstrap, "oob"));
            // -O as the README runs capture's channel: capture never changes the primary.
            primary.startSyncClient(CyrusInstance.MAILSTREAM_CHANNEL, "-O");
        } catch (RuntimeException | IOException e) {
            closeAll(started);
            throw e;
        }
    }

    /** Users and passwords ({@code <user>pw}) for {@code users} plus carol, whom the action script creates and deletes. */
    static Map<String, String> scriptUsers(List<String> users) {
        Map<String, String> passwords = passwords(users);
        passwords.put(ImapActionScript.CAROL, "carolpw");
        return passwords;
    }

    /** A lab whose users' passwords are their names followed by "pw". */
    static PipelineLab forUsers(Path dir, List<String> users) throws IOException {
        return new PipelineLab(dir, passwords(users));
    }

    private static Map<String, String> passwords(List<String> users) {
        Map<String, String> passwords = new LinkedHashMap<>();
        for (String u : users) passwords.put(u, u + "pw");
        return passwords;
    }

    private static <T extends AutoCloseable> T track(List<AutoCloseable> started, T c) {
        started.add(c);
        return c;
    }

    private CyrusInstance.Builder withUsers(CyrusInstance.Builder b) {
        b.admin("admin", ADMIN_PASSWORD);
        users.forEach(b::user);
        imapdOptions.forEach(b::option);
        return b;
    }

    /** An empty replica with the same users (sasldb), e.g. to rebuild into. */
    CyrusInstance emptyReplica() {
        return withUsers(CyrusInstance.replica()).start();
    }

    private Map<String, String> settings(int capturePort) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("data.dir", dir.resolve("data").toString());
        s.put("http.listen", ANY_PORT);
        s.put("kafka.bootstrap.servers", bootstrap);
        if (cluster == null) {
            // An external bootstrap means cluster defaults (replication 3); this broker is alone.
            s.put("kafka.topic.partitions", "3");
            s.put("kafka.topic.replication.factor", "1");
            s.put("kafka.topic.min.insync.replicas", "1");
        } else {
            s.put(
                    "kafka.topic.partitions",
                    "6"); // two leaders per broker; 12, the cluster default, only costs time here
        }
        s.put("capture.listen", "127.0.0.1:" + capturePort);
        s.put("capture.auth.user", "admin");
        s.put("capture.auth.password", ADMIN_PASSWORD);
        s.put("capture.primary.address", "127.0.0.1:" + primary.csyncPort());
        s.put("capture.primary.password", ADMIN_PASSWORD);
        s.put("tiers", "dc2,oob");
        s.put("tier.dc2.type", "cyrus");
        s.put("tier.dc2.cyrus.address", "127.0.0.1:" + replica.csyncPort());
        s.put("tier.dc2.cyrus.password", ADMIN_PASSWORD);
        s.put("tier.oob.type", "store");
        s.put("tier.oob.store.dir", storeDir().toString());
        return s;
    }

    Path storeDir() {
        return dir.resolve("oob");
    }

    /** A copy of the lab's settings, to extend (say, with another tier). */
    Map<String, String> settings() {
        return new LinkedHashMap<>(settings);
    }

    /** Streams again under {@code newConfig}, e.g. with a tier added: it then writes that tier's feed too. */
    void restartStreams(MailstreamConfig newConfig) {
        streams.close();
        TopicAdmin.ensureTopics(newConfig, bootstrap);
        streams = MailstreamStreams.build(newConfig, bootstrap);
        streams.start();
    }

    /** The configuration as a properties file, for {@code mailstream ... --config FILE} in a child JVM. */
    Path configFile() {
        return ChildJvm.writeProperties(dir.resolve("mailstream.properties"), settings);
    }

    /** Everything Cyrus logged for the mailstream channel has been committed to Kafka by capture. */
    void awaitCaptured() {
        primary.awaitSyncLogDrained(CyrusInstance.MAILSTREAM_CHANNEL, Duration.ofMinutes(5));
    }

    /** The tier's sink has committed its whole feed. */
    long eventsBehind(String tier) {
        return StatusReport.compute(config, bootstrap).tiers().stream()
                .filter(t -> t.tier().equals(tier))
                .findFirst()
                .orElseThrow()
                .eventsBehind();
    }

    void awaitTierCaughtUp(String tier) {
        await().atMost(Duration.ofMinutes(5))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> eventsBehind(tier) == 0);
    }

    /** Waits until the replica holds the same mail as the primary for these users; fails with the differences. */
    void assertReplicaIdentical(List<String> users, Duration converge) {
        awaitCaptured();
        List<String> differences = new ArrayList<>();
        try {
            // ignoreExceptions: ManageSieve refuses a user whose mailbox has not reached the replica yet.
            await().atMost(converge)
                    .pollInterval(Duration.ofSeconds(2))
                    .ignoreExceptions()
                    .until(() -> {
                        differences.clear();
                        differences.addAll(SameMail.replicaDifferences(primary.endpoint(), replica.endpoint(), users));
                        return differences.isEmpty();
                    });
        } finally {
            assertThat(differences).as("replica vs primary").isEmpty();
        }
    }

    String bootstrapServers() {
        return bootstrap;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        List<AutoCloseable> all = new ArrayList<>(List.of(replica, primary));
        all.add(kafka != null ? kafka : cluster);
        all.addAll(List.of(capture, streams, oob));
        closeAll(all);
    }

    private void closeAll(List<AutoCloseable> started) {
        List<AutoCloseable> order = new ArrayList<>(started);
        if (dc2 != null && !order.contains(dc2)) order.add(dc2);
        for (int i = order.size() - 1; i >= 0; i--) {
            try {
                if (order.get(i) != null) order.get(i).close();
            } catch (Exception e) {
                // keep closing the rest: no Cyrus or broker may outlive the test
            }
        }
    }
}
