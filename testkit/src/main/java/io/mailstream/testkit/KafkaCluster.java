package io.mailstream.testkit;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * A KRaft cluster of several nodes, each a JVM of its own running Kafka's {@code kafka.Kafka}
 * (the {@code kafka_2.13} of the test classpath), created, started and stopped by the
 * infra/kafka scripts as an operator would. A node can be killed (SIGKILL: no controlled
 * shutdown, no flush) and started again on its own log.
 */
public final class KafkaCluster implements AutoCloseable {
    private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(3);

    private final Path dir;
    private final Path scripts;
    private final Map<String, String> env;
    private final String bootstrapServers;
    private final List<Integer> brokers;
    private boolean closed;

    private KafkaCluster(Path dir, Path scripts, Map<String, String> env) {
        this.dir = dir;
        this.scripts = scripts;
        this.env = env;
        Properties cluster = new Properties();
        try (Reader r = Files.newBufferedReader(dir.resolve("cluster.env"), StandardCharsets.UTF_8)) {
            cluster.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + dir.resolve("cluster.env"), e);
        }
        this.bootstrapServers = cluster.getProperty("BOOTSTRAP");
        this.brokers = Arrays.stream(
                        cluster.getProperty("BROKERS").replace("\"", "").trim().split("\\s+"))
                .map(Integer::valueOf)
                .toList();
    }

    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    public static final class Builder {
        private final Path dir;
        private int nodes = 3;
        private int controllers;
        private String heap = "256m";
        private boolean fastFailover;
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder(Path dir) {
            this.dir = dir.toAbsolutePath();
        }

        /** Broker nodes (default 3); without {@link #controllers}, the first three are also the controller quorum. */
        public Builder nodes(int n) {
            this.nodes = n;
            return this;
        }

        /** Separate controller-only nodes (ids 101, 102, ...) instead of combined ones. */
        public Builder controllers(int n) {
            this.controllers = n;
            return this;
        }

        public Builder heap(String size) {
            this.heap = size;
            return this;
        }

        /** A dead broker is fenced after 3 s instead of the default 9 s. */
        public Builder fastFailover() {
            this.fastFailover = true;
            return this;
        }

        /** Any further server.properties setting, for every node. */
        public Builder set(String key, String value) {
            settings.put(key, value);
            return this;
        }

        /** Creates (formats) and starts the cluster; returns when every node is up. */
        public KafkaCluster start() {
            Path scripts = CyrusInstance.infraDir("kafka", "create-cluster.sh");
            Map<String, String> env = Map.of(
                    "KAFKA_CLASSPATH",
                            System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                    "JAVA",
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString());
            List<String> args = new ArrayList<>(List.of(
                    "--dir",
                    dir.toString(),
                    "--nodes",
                    String.valueOf(nodes),
                    "--controllers",
                    String.valueOf(controllers),
                    "--heap",
                    heap,
                    "--lab"));
            if (fastFailover) args.add("--fast-failover");
            settings.forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
            run(scripts, env, "create-cluster.sh", args);
            KafkaCluster cluster = new KafkaCluster(dir, scripts, env);
            // The brokers run in sessions of their own: without this, a test JVM that exits
            // without closing (a failed @BeforeAll, Ctrl-C) would leave them running.
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::close, "stop-kafka-cluster"));
            try {
                cluster.script("start-cluster.sh", dir.toString());
            } catch (RuntimeException e) {
                cluster.close();
                throw e;
            }
            return cluster;
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Node ids of the brokers, as Kafka reports them (leaders, replicas). */
    public List<Integer> brokers() {
        return brokers;
    }

    /** SIGKILL to node {@code id}, as a crash or a power cut; returns once the process is gone. */
    public void kill(int id) {
        script("stop-node.sh", "--kill", dir.toString(), String.valueOf(id));
    }

    /** Controlled shutdown of node {@code id} (its partitions' leadership moves away first). */
    public void stop(int id) {
        script("stop-node.sh", dir.toString(), String.valueOf(id));
    }

    /** Starts node {@code id} again on its log; returns when it is up. */
    public void start(int id) {
        script("start-node.sh", dir.toString(), String.valueOf(id));
    }

    /**
     * The broker leading the partitions of {@code topic} that hold the most records so far (end
     * offsets summed per leader): the one whose loss interrupts the most traffic.
     */
    public int busiestLeader(String topic) {
        return recordsLedPerBroker(topic).entrySet().stream()
                .max(Map.Entry.comparingByValue())
                .orElseThrow()
                .getKey();
    }

    /** Records of {@code topic} so far (end offsets), summed per broker leading the partitions they are in. */
    public Map<Integer, Long> recordsLedPerBroker(String topic) {
        return admin(admin -> {
            TopicDescription d = admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .get(topic);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            d.partitions().forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            var ends = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
            Map<Integer, Long> perLeader = new TreeMap<>();
            for (TopicPartitionInfo p : d.partitions()) {
                if (p.leader() == null) continue;
                perLeader.merge(
                        p.leader().id(),
                        ends.get(new TopicPartition(topic, p.partition())).offset(),
                        Long::sum);
            }
            return perLeader;
        });
    }

    /** The leader of each partition of {@code topic}, -1 for none, in partition order. */
    public List<Integer> leaders(String topic) {
        return admin(
                admin -> admin
                        .describeTopics(List.of(topic))
                        .allTopicNames()
                        .get(30, TimeUnit.SECONDS)
                        .get(topic)
                        .partitions()
                        .stream()
                        .map(p -> p.leader() == null ? -1 : p.leader().id())
                        .toList());
    }

    /** How many partitions of {@code topic} do not have broker {@code id} among their in-sync replicas. */
    public long partitionsOutOfSync(String topic, int id) {
        return admin(admin ->
                admin
                        .describeTopics(List.of(topic))
                        .allTopicNames()
                        .get(30, TimeUnit.SECONDS)
                        .get(topic)
                        .partitions()
                        .stream()
                        .filter(p -> p.isr().stream().noneMatch(n -> n.id() == id))
                        .count());
    }

    private interface AdminCall<T> {
        T call(Admin admin) throws Exception;
    }

    private <T> T admin(AdminCall<T> call) {
        try (Admin admin = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                15_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                30_000))) {
            return call.call(admin);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("asking " + this + " failed: " + e, e);
        }
    }

    public Path log(int id) {
        return dir.resolve("node-" + id).resolve("kafka.log");
    }

    private void script(String name, String... args) {
        run(scripts, env, name, List.of(args));
    }

    private static void run(Path scripts, Map<String, String> env, String name, List<String> args) {
        List<String> cmd =
                new ArrayList<>(List.of("/bin/bash", scripts.resolve(name).toString()));
        cmd.addAll(args);
        CyrusInstance.ProcessResult r = CyrusInstance.exec(cmd, env, SCRIPT_TIMEOUT);
        if (r.exitCode() != 0) {
            throw new IllegalStateException(
                    name + " " + String.join(" ", args) + " failed (" + r.exitCode() + "):\n" + r.output());
        }
    }

    /** Stops every node (SIGTERM to all at once, SIGKILL after 30 s); idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        script("stop-cluster.sh", dir.toString());
    }

    @Override
    public String toString() {
        return "KafkaCluster[" + bootstrapServers + ", " + dir + "]";
    }
}
