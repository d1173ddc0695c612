package io.mailstream.core.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.function.BiFunction;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node KRaft broker (combined broker + controller) running in this JVM, built from
 * Kafka's own server classes. Its log lives under {@code dataDir}; the cluster id and the ports
 * chosen on first start are kept in {@code dataDir/embedded.properties}, so a restart on the same
 * folder brings back the same broker with every topic and offset intact.
 * Used as the default broker of {@code mailstream} and by the integration tests.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final String HOST = "127.0.0.1";
    private static final String STATE_FILE = "embedded.properties";

    private final Path dataDir;
    private final int brokerPort;
    private final int controllerPort;
    private final KafkaRaftServer server;
    private boolean stopped;

    private EmbeddedKafka(Path dataDir, int brokerPort, int controllerPort, KafkaRaftServer server) {
        this.dataDir = dataDir;
        this.brokerPort = brokerPort;
        this.controllerPort = controllerPort;
        this.server = server;
    }

    /** Starts (formatting on first use) a broker in {@code dataDir}; {@code port} 0 = a free port, remembered. */
    public static EmbeddedKafka start(Path dataDir, int port) {
        return start(dataDir, port, (broker, controller) -> Map.of());
    }

    /**
     * As {@link #start(Path, int)}, with server properties added or replaced; {@code overrides}
     * gets the client and controller ports (for listeners of another security protocol, say).
     */
    public static EmbeddedKafka start(
            Path dataDir, int port, BiFunction<Integer, Integer, Map<String, String>> overrides) {
        try {
            Files.createDirectories(dataDir);
            Path stateFile = dataDir.resolve(STATE_FILE);
            Properties state = readState(dataDir);
            int brokerPort =
                    port != 0 ? port : Integer.parseInt(state.getProperty("broker.port", String.valueOf(freePort())));
            int controllerPort = state.getProperty("controller.port") != null
                    ? Integer.parseInt(state.getProperty("controller.port"))
                    : freePortOtherThan(brokerPort);
            String clusterId = state.getProperty("cluster.id", Uuid.randomUuid().toString());
            state.setProperty("broker.port", String.valueOf(brokerPort));
            state.setProperty("controller.port", String.valueOf(controllerPort));
            state.setProperty("cluster.id", clusterId);

            Path logDir = dataDir.resolve("log");
            Properties props = serverProperties(logDir, brokerPort, controllerPort);
            props.putAll(overrides.apply(brokerPort, controllerPort));
            Path serverFile = dataDir.resolve("server.properties");
            try (Writer w = Files.newBufferedWriter(serverFile)) {
                props.store(w, "embedded mailstream broker (generated)");
            }
            if (!Files.exists(logDir.resolve("meta.properties"))) {
                format(serverFile, clusterId);
            }
            try (Writer w = Files.newBufferedWriter(stateFile)) {
                state.store(w, "embedded mailstream broker identity: keep with the log");
            }
            long t0 = System.nanoTime();
            KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
            server.startup();
            LOG.info(
                    "embedded Kafka broker up at {}:{} (data {}) in {} ms",
                    HOST,
                    brokerPort,
                    dataDir,
                    (System.nanoTime() - t0) / 1_000_000);
            return new EmbeddedKafka(dataDir, brokerPort, controllerPort, server);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded Kafka broker in " + dataDir, e);
        }
    }

    private static Properties serverProperties(Path logDir, int brokerPort, int controllerPort) {
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", "1");
        p.setProperty("controller.quorum.voters", "1@" + HOST + ":" + controllerPort);
        p.setProperty(
                "listeners", "PLAINTEXT://" + HOST + ":" + brokerPort + ",CONTROLLER://" + HOST + ":" + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.setProperty("log.dirs", logDir.toString());
        // One node: every internal topic must have RF 1, or transactions and EOS block for 60 s.
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "5");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("transaction.state.log.num.partitions", "5");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("num.partitions", "3");
        // The cleaner's dedupe buffer is allocated on heap at start-up (128 MiB by default).
        p.setProperty("log.cleaner.dedupe.buffer.size", "2097152");
        p.setProperty("auto.create.topics.enable", "false");
        p.setProperty("message.max.bytes", "2097152");
        return p;
    }

    private static void format(Path serverFile, String clusterId) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = kafka.tools.StorageTool.execute(
                new String[] {"format", "-t", clusterId, "-c", serverFile.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8));
        if (rc != 0) {
            throw new IllegalStateException(
                    "formatting the embedded broker's storage failed: " + out.toString(StandardCharsets.UTF_8));
        }
    }

    /**
     * A free port that is not {@code taken}: the port just released for the broker is free again,
     * and the system may hand it out at once, which would put both listeners on one port.
     */
    private static int freePortOtherThan(int taken) throws IOException {
        int port = freePort();
        while (port == taken) {
            port = freePort();
        }
        return port;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(HOST, 0));
            return s.getLocalPort();
        }
    }

    /**
     * The address of the embedded broker that runs (or last ran) in {@code dataDir}, for commands
     * in another process (status, events) that talk to it; empty if none ever started there.
     */
    public static java.util.Optional<String> bootstrapServersOf(Path dataDir) {
        try {
            String port = readState(dataDir).getProperty("broker.port");
            return port == null ? java.util.Optional.empty() : java.util.Optional.of(HOST + ":" + port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dataDir.resolve(STATE_FILE), e);
        }
    }

    /** The identity a broker in {@code dataDir} was given on its first start; empty before that. */
    private static Properties readState(Path dataDir) throws IOException {
        Properties state = new Properties();
        Path stateFile = dataDir.resolve(STATE_FILE);
        if (Files.exists(stateFile)) {
            try (Reader r = Files.newBufferedReader(stateFile)) {
                state.load(r);
            }
        }
        return state;
    }

    public String bootstrapServers() {
        return HOST + ":" + brokerPort;
    }

    public int port() {
        return brokerPort;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Controlled shutdown; idempotent. */
    @Override
    public synchronized void close() {
        if (stopped) return;
        stopped = true;
        server.shutdown();
        server.awaitShutdown();
        LOG.info("embedded Kafka broker at {}:{} stopped", HOST, brokerPort);
    }

    @Override
    public String toString() {
        return "EmbeddedKafka[" + bootstrapServers() + ", controller " + controllerPort + ", " + dataDir + "]";
    }
}
