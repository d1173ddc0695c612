package io.mailstream.sinks;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.mailstream.testkit.ChildJvm;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * For crash and memory tests of the Cyrus replica sink: the real broker, a source Cyrus whose
 * users get mail (their state, read over csync, is what the test writes to the feed), an empty
 * replica Cyrus, and tier dc2's sink in a child JVM ({@link SinkChild}) that the test can kill.
 */
final class ChildSinkLab implements AutoCloseable {
    static final String TIER = "dc2";

    final EmbeddedKafka kafka;
    final CyrusInstance source;
    final CyrusInstance replica;
    final Path configFile;
    private final CyrusStateEvents capture = new CyrusStateEvents();

    /** {@code users} get a mailbox on the source; {@code settings} add to or override the tier's configuration. */
    ChildSinkLab(Path dir, Collection<String> users, Map<String, String> settings) {
        CyrusInstance.requireCyrus();
        List<AutoCloseable> started = new ArrayList<>();
        try {
            source = track(started, withUsers(CyrusInstance.replica(), users).start());
            replica = track(started, withUsers(CyrusInstance.replica(), users).start());
            try (ImapClient admin = source.endpoint().imapAdmin()) {
                users.forEach(u -> admin.create("user." + u));
            }
            kafka = track(started, EmbeddedKafka.start(dir.resolve("kafka"), 0));
            Map<String, String> s = new LinkedHashMap<>();
            s.put("data.dir", dir.resolve("data").toString());
            s.put("kafka.bootstrap.servers", kafka.bootstrapServers());
            s.put("kafka.topic.partitions", "3");
            s.put("kafka.topic.replication.factor", "1");
            s.put("kafka.topic.min.insync.replicas", "1");
            s.put("tiers", TIER);
            s.put("tier.dc2.type", "cyrus");
            s.put("tier.dc2.cyrus.address", "127.0.0.1:" + replica.csyncPort());
            s.put("tier.dc2.cyrus.password", "adminpw");
            s.putAll(settings);
            TopicAdmin.ensureTopics(MailstreamConfig.of(s), kafka.bootstrapServers());
            configFile = ChildJvm.writeProperties(dir.resolve("mailstream.properties"), s);
        } catch (RuntimeException e) {
            closeAll(started);
            throw e;
        }
    }

    private static CyrusInstance.Builder withUsers(CyrusInstance.Builder b, Collection<String> users) {
        users.forEach(u -> b.user(u, u + "pw"));
        return b;
    }

    private static <T extends AutoCloseable> T track(List<AutoCloseable> started, T c) {
        started.add(c);
        return c;
    }

    /** The sink of dc2 in a JVM of its own, started with these JVM options; ready once it has started. */
    ChildJvm startSink(String name, List<String> jvmOptions) {
        return ChildJvm.start(
                name,
                jvmOptions,
                SinkChild.class.getName(),
                "READY",
                Duration.ofSeconds(60),
                configFile.toString(),
                TIER);
    }

    /** The user's whole state on the source, as the events capture writes for a full push. */
    List<ChangeEvent> sourceState(String user) throws Exception {
        try (CsyncClient csync =
                CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", source.csyncPort(), "admin", "adminpw"))) {
            return capture.user(csync, user);
        }
    }

    /** A writer of the dc2 feed; close it after use. */
    FeedWriter feedWriter() {
        return new FeedWriter(kafka.bootstrapServers());
    }

    /** The sink has committed the whole feed. */
    boolean caughtUp() throws Exception {
        return FeedOffsets.committed(kafka.bootstrapServers(), TIER)
                .equals(FeedOffsets.end(kafka.bootstrapServers(), TIER));
    }

    @Override
    public void close() {
        closeAll(List.of(source, replica, kafka));
    }

    private static void closeAll(List<AutoCloseable> started) {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                // keep closing the rest: no Cyrus or broker may outlive the test
            }
        }
    }

    /** Writes the dc2 feed as streams does: each call one transaction, so the feed may end anywhere. */
    static final class FeedWriter implements AutoCloseable {
        private final SchemaTopicRegistry schemas;
        private final Producer<byte[], byte[]> producer;
        private final AvroCodec<ChangeEvent> codec;

        private FeedWriter(String bootstrapServers) {
            Map<String, Object> props = KafkaClients.producerProps(bootstrapServers, "test-feed-" + TIER, 1 << 20);
            schemas = new SchemaTopicRegistry(props);
            producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
            codec = AvroCodec.changeEvent(schemas);
            producer.initTransactions();
        }

        byte[] encode(ChangeEvent event) {
            return codec.encode(event);
        }

        void write(List<ChangeEvent> events) {
            producer.beginTransaction();
            for (ChangeEvent e : events) send(e.getEnvelope().getPartitionKey(), encode(e));
            producer.commitTransaction();
        }

        /** Already encoded events of one partition key, in one transaction; returns their bytes. */
        long write(String key, List<byte[]> values) {
            long bytes = 0;
            producer.beginTransaction();
            for (byte[] value : values) {
                send(key, value);
                bytes += value.length;
            }
            producer.commitTransaction();
            return bytes;
        }

        private void send(String key, byte[] value) {
            producer.send(new ProducerRecord<>(Topics.feed(TIER), key.getBytes(StandardCharsets.UTF_8), value));
        }

        @Override
        public void close() {
            producer.close();
            schemas.close();
        }
    }
}
