package io.mailstream.producers.capture;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.dlist.DKeyed;
import io.mailstream.csync.dlist.DListLimits;
import io.mailstream.csync.dlist.DListReader;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import io.mailstream.testkit.ChildJvm;
import io.mailstream.testkit.CyrusInstance;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A real Cyrus primary whose {@code mailstream} channel points at a capture port, an embedded
 * broker with the mailstream topics, and helpers to read what ended up in mailstream.changes.
 */
final class CaptureLab implements AutoCloseable {
    static final String SERVER_ID = "primary-test";
    static final String CHANNEL = CyrusInstance.MAILSTREAM_CHANNEL;

    final Path dir;
    final int capturePort;
    EmbeddedKafka kafka;
    final CyrusInstance cyrus;
    /** What captures started with {@link #startCapture} record into. */
    final SimpleMeterRegistry metrics = new SimpleMeterRegistry();

    CaptureLab(Path dir, Map<String, String> users) throws IOException {
        CyrusInstance.requireCyrus();
        this.dir = dir;
        this.capturePort = freePort();
        this.kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
        TopicAdmin.ensureTopics(config(dir.resolve("data")), kafka.bootstrapServers());
        // sync_client backs off 15 s, 30 s, 60 s ... between reconnects to a dead capture; a test that kills
        // capture twice would otherwise wait minutes, so cap the wait (sync_reconnect_maxwait, 3.6+).
        CyrusInstance.Builder b = CyrusInstance.primary()
                .mailstreamTarget("127.0.0.1", capturePort)
                .syncRepeatInterval(0)
                .option("sync_reconnect_maxwait: 3");
        users.forEach(b::user);
        this.cyrus = b.start();
    }

    MailstreamConfig config(Path dataDir) {
        return MailstreamConfig.of(settings(dataDir));
    }

    /** The same settings as a properties file, for a capture in a child JVM. */
    Path configFile(Path dataDir) {
        return configFile(dataDir, Map.of());
    }

    /** As {@link #configFile(Path)}, with some settings added or replaced. */
    Path configFile(Path dataDir, Map<String, String> extra) {
        Map<String, String> all = new HashMap<>(settings(dataDir));
        all.putAll(extra);
        return ChildJvm.writeProperties(dir.resolve("capture.properties"), all);
    }

    private Map<String, String> settings(Path dataDir) {
        return Map.ofEntries(
                Map.entry("data.dir", dataDir.toString()),
                Map.entry("kafka.topic.partitions", "3"),
                Map.entry("kafka.topic.replication.factor", "1"),
                Map.entry("kafka.topic.min.insync.replicas", "1"),
                Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()),
                Map.entry("capture.listen", "127.0.0.1:" + capturePort),
                Map.entry("capture.server.id", SERVER_ID),
                Map.entry("capture.auth.user", "admin"),
                Map.entry("capture.auth.password", "adminpw"),
                Map.entry("content.chunk.bytes", "262144"));
    }

    Capture startCapture(Path dataDir) throws IOException {
        return Capture.start(config(dataDir), kafka.bootstrapServers(), metrics, e -> {});
    }

    /**
     * The rolling sync_client of the mailstream channel with {@code -O}, as the README tells
     * operators to run it: no copy-back into the primary, ever.
     */
    void startSyncClient() {
        run(
                "/bin/bash",
                repoRoot().resolve("infra/cyrus/start-sync-client.sh").toString(),
                cyrus.dir().toString(),
                CHANNEL,
                "-O");
    }

    /**
     * sync_client ends when its replica connection dies in the middle of a pass (spec 5.5); on a
     * real primary master's DAEMON section starts it again, here the test plays that part.
     */
    void restartSyncClientIfGone() throws IOException {
        Path pidFile = cyrus.dir().resolve("run/sync_client." + CHANNEL + ".pid");
        boolean running =
                Files.exists(pidFile) && isRunning(Files.readString(pidFile).trim());
        if (!running) {
            startSyncClient();
        }
    }

    /** Alive and not a zombie (this container's init reaps late). */
    private static boolean isRunning(String pid) throws IOException {
        Path stat = Path.of("/proc", pid, "stat");
        if (!Files.exists(stat)) return false;
        String s = Files.readString(stat);
        return !s.substring(s.lastIndexOf(')') + 2).startsWith("Z");
    }

    void awaitDrained() {
        cyrus.awaitSyncLogDrained(CHANNEL, Duration.ofSeconds(60));
    }

    // ---- mailstream.changes ----

    Map<TopicPartition, Long> endOffsets() {
        try (KafkaConsumer<String, ChangeEvent> c = consumer()) {
            return c.endOffsets(partitions(c));
        }
    }

    List<ChangeEvent> events() {
        return eventsSince(Map.of());
    }

    /** Committed events after {@code from} (partition → offset; absent = from the beginning), by sequence. */
    List<ChangeEvent> eventsSince(Map<TopicPartition, Long> from) {
        List<ChangeEvent> out = new ArrayList<>();
        eventsByPartition(from).values().forEach(out::addAll);
        out.sort(java.util.Comparator.comparingLong(e -> e.getEnvelope().getSequence()));
        return out;
    }

    /** Every committed event, per partition in offset order: the order a consumer of that partition applies them. */
    Map<Integer, List<ChangeEvent>> eventsByPartition() {
        return eventsByPartition(Map.of());
    }

    private Map<Integer, List<ChangeEvent>> eventsByPartition(Map<TopicPartition, Long> from) {
        Map<Integer, List<ChangeEvent>> out = new java.util.TreeMap<>();
        try (KafkaConsumer<String, ChangeEvent> c = consumer()) {
            List<TopicPartition> parts = partitions(c);
            c.assign(parts);
            for (TopicPartition p : parts) {
                c.seek(p, from.getOrDefault(p, 0L));
                out.put(p.partition(), new ArrayList<>());
            }
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.currentTimeMillis() + 30_000;
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p)) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, ChangeEvent> r : c.poll(Duration.ofMillis(200))) {
                    out.get(r.partition()).add(r.value());
                }
            }
        }
        return out;
    }

    private KafkaConsumer<String, ChangeEvent> consumer() {
        return new KafkaConsumer<>(
                KafkaClients.consumerProps(kafka.bootstrapServers(), null),
                new StringDeserializer(),
                AvroSerdes.changeEvent(SchemaResolver.none()).deserializer());
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c) {
        return c.partitionsFor(Topics.CHANGES).stream()
                .map(p -> new TopicPartition(Topics.CHANGES, p.partition()))
                .toList();
    }

    // ---- the primary's own view over IMAP SYNCGET ----

    /** The primary's mailbox as it reports it to a replica: with RECORD when {@code full}. */
    Map<String, Mailbox> primaryMailboxes(List<String> names) {
        Map<String, Mailbox> out = new HashMap<>();
        try (var imap = cyrus.endpoint().imapAdmin()) {
            for (byte[] line : imap.syncGet("MAILBOXES ("
                    + String.join(" ", names.stream().map(n -> "\"" + n + "\"").toList()) + ")")) {
                Mailbox m = parseMailbox(line);
                out.put(m.name(), m);
            }
        }
        return out;
    }

    Mailbox primaryFullMailbox(String name) {
        try (var imap = cyrus.endpoint().imapAdmin()) {
            return parseMailbox(imap.syncGet("FULLMAILBOX \"" + name + "\"").get(0));
        }
    }

    private static Mailbox parseMailbox(byte[] line) {
        try {
            DListReader r = new DListReader(new ByteArrayInputStream(line), DListLimits.DEFAULTS);
            r.readWord(); // "*"
            r.skipBlanks();
            DKeyed k = r.readKeyed();
            return Mailbox.from(k.value().asKvList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- processes ----

    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("infra/cyrus"))) {
                return p;
            }
        }
        throw new IllegalStateException(
                "infra/cyrus not found above " + Path.of("").toAbsolutePath());
    }

    static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + new String(out));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        try {
            cyrus.close();
        } finally {
            kafka.close();
        }
    }
}
