package io.mailstream.bench;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.producers.capture.Capture;
import io.mailstream.sinks.Sinks;
import io.mailstream.streams.MailstreamStreams;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.KafkaCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * mailstream between real Cyrus servers, in this JVM and wired as {@code mailstream run} wires
 * its roles, with production defaults except what a single embedded broker needs: a Cyrus
 * primary whose {@code mailstream} channel ({@code sync_client -R -O}, sync_repeat_interval 0)
 * pushes to capture on the embedded broker; with tiers, also streams, a Cyrus replica sink (tier
 * dc2, a real empty replica) and a store sink (tier oob). Closing stops everything it started,
 * newest first, and deletes its scratch directory.
 */
final class Pipeline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);
    static final String CYRUS_TIER = "dc2";
    static final String STORE_TIER = "oob";

    final CyrusInstance primary;
    /** The Cyrus replica of tier dc2; null without tiers. */
    final CyrusInstance replica;
    /** The embedded broker; null on a {@link #cluster}. */
    final EmbeddedKafka kafka;
    /** A multi-broker cluster, one JVM per broker; null on the embedded broker. */
    final KafkaCluster cluster;

    private final String bootstrap;
    private final Path dir;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();

    /** Primary, capture and broker: everything up to mailstream.changes. */
    static Pipeline toChanges(List<String> users) throws IOException {
        return new Pipeline(users, false, false, b -> b, true, null);
    }

    /** The whole pipeline: up to a Cyrus replica (tier dc2) and a store (tier oob). */
    static Pipeline toTiers(List<String> users) throws IOException {
        return new Pipeline(users, true, true, b -> b, true, null);
    }

    /** The whole pipeline on a cluster started from {@code cluster} (its folder under the scratch directory), with cluster topic defaults. */
    static Pipeline toTiersOnCluster(
            List<String> users, java.util.function.Function<Path, KafkaCluster.Builder> cluster) throws IOException {
        return new Pipeline(users, true, true, b -> b, true, cluster);
    }

    /**
     * The whole pipeline with the primary's {@code mailstream} sync_client not started yet (a
     * backlog builds in its sync log until {@link #startCapturing}); {@code primaryOptions} adds
     * to the primary, e.g. a default channel to another replica. Only the Cyrus tier, no store:
     * one replica, as Cyrus's own replication has.
     */
    static Pipeline toTiersStopped(List<String> users, UnaryOperator<CyrusInstance.Builder> primaryOptions)
            throws IOException {
        return new Pipeline(users, true, false, primaryOptions, false, null);
    }

    private Pipeline(
            List<String> users,
            boolean tiers,
            boolean storeTier,
            UnaryOperator<CyrusInstance.Builder> primaryOptions,
            boolean capturing,
            java.util.function.Function<Path, KafkaCluster.Builder> clusterBuilder)
            throws IOException {
        this.dir = Files.createTempDirectory("mailstream-bench-");
        try {
            int capturePort = freePort();
            replica = tiers ? track(withUsers(CyrusInstance.replica(), users).start()) : null;
            primary = track(primaryOptions
                    .apply(withUsers(CyrusInstance.primary(), users)
                            .mailstreamTarget("127.0.0.1", capturePort)
                            .syncRepeatInterval(0))
                    .start());
            if (clusterBuilder == null) {
                kafka = track(EmbeddedKafka.start(dir.resolve("kafka"), 0));
                cluster = null;
                bootstrap = kafka.bootstrapServers();
            } else {
                kafka = null;
                cluster = track(clusterBuilder.apply(dir.resolve("kafka")).start());
                bootstrap = cluster.bootstrapServers();
            }
            MailstreamConfig config = MailstreamConfig.of(settings(capturePort, tiers, storeTier));
            TopicAdmin.ensureTopics(config, bootstrap);
            track(Capture.start(
                    config,
                    bootstrap,
                    new SimpleMeterRegistry(),
                    e -> LOG.error("capture was fenced: the numbers of this run are void", e)));
            if (tiers) {
                MailstreamStreams streams = track(MailstreamStreams.build(config, bootstrap));
                streams.start();
                track(Sinks.start(config, bootstrap, CYRUS_TIER));
                if (storeTier) {
                    track(Sinks.start(config, bootstrap, STORE_TIER));
                }
            }
            if (capturing) {
                startCapturing();
            }
        } catch (RuntimeException | IOException e) {
            close();
            throw e;
        }
    }

    /** Starts the primary's sync_client of the {@code mailstream} channel, which pushes to capture. */
    void startCapturing() {
        // -O as the README runs capture's channel: capture never changes the primary.
        primary.startSyncClient(CyrusInstance.MAILSTREAM_CHANNEL, "-O");
    }

    /** Users with password {@code <user>pw}; the admin (also the csync user) is admin/adminpw. */
    static CyrusInstance.Builder withUsers(CyrusInstance.Builder b, List<String> users) {
        users.forEach(u -> b.user(u, password(u)));
        return b;
    }

    static String password(String user) {
        return user + "pw";
    }

    private Map<String, String> settings(int capturePort, boolean tiers, boolean storeTier) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("data.dir", dir.resolve("data").toString());
        s.put("kafka.bootstrap.servers", bootstrap);
        if (cluster == null) {
            // An external bootstrap means cluster defaults (replication 3); this broker is alone.
            s.put("kafka.topic.replication.factor", "1");
            s.put("kafka.topic.min.insync.replicas", "1");
        } else {
            s.put("kafka.topic.partitions", "6");
        }
        s.put("capture.listen", "127.0.0.1:" + capturePort);
        s.put("capture.auth.user", "admin");
        s.put("capture.auth.password", "adminpw");
        if (tiers) {
            s.put("tiers", storeTier ? CYRUS_TIER + "," + STORE_TIER : CYRUS_TIER);
            s.put("tier." + CYRUS_TIER + ".type", "cyrus");
            s.put("tier." + CYRUS_TIER + ".cyrus.address", replica.host() + ":" + replica.csyncPort());
            s.put("tier." + CYRUS_TIER + ".cyrus.password", "adminpw");
            if (storeTier) {
                s.put("tier." + STORE_TIER + ".type", "store");
                s.put("tier." + STORE_TIER + ".store.dir", dir.resolve("store").toString());
            }
        }
        return s;
    }

    private <T extends AutoCloseable> T track(T resource) {
        started.push(resource);
        return resource;
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
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                // keep closing the rest: no Cyrus, broker or role may outlive the benchmark
                LOG.warn("closing: {}", e.toString());
            }
        }
        deleteTree(dir);
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
