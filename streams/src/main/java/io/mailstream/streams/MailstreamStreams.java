package io.mailstream.streams;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.errors.ErrorPolicy;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.Topics;
import io.mailstream.core.metrics.MailstreamMetrics;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streams role of a mailstream process: {@link MailstreamTopology} run by Kafka Streams with
 * exactly-once (v2) processing, so that state, feeds, DLQ and consumed offsets commit together.
 */
public final class MailstreamStreams implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MailstreamStreams.class);
    private static final String ROLE = "streams";
    static final String THREAD_REPLACEMENTS_METER = "mailstream.streams.thread.replacements";

    private final MailstreamConfig config;
    private final String bootstrapServers;
    private final SchemaTopicRegistry schemas;
    private final ChangesLog changesLog;
    private final KafkaStreams streams;

    private MailstreamStreams(
            MailstreamConfig config,
            String bootstrapServers,
            SchemaTopicRegistry schemas,
            ChangesLog changesLog,
            KafkaStreams streams) {
        this.config = config;
        this.bootstrapServers = bootstrapServers;
        this.schemas = schemas;
        this.changesLog = changesLog;
        this.streams = streams;
    }

    public static MailstreamStreams build(MailstreamConfig config, String bootstrapServers) {
        return build(config, bootstrapServers, Map.of());
    }

    /** {@code overrides}: extra Kafka Streams properties, e.g. a shorter commit interval in tests. */
    public static MailstreamStreams build(MailstreamConfig config, String bootstrapServers, Map<String, ?> overrides) {
        return build(config, bootstrapServers, overrides, Time.SYSTEM);
    }

    /** {@code time}: the clock Kafka Streams runs on, e.g. one a test moves forward. */
    static MailstreamStreams build(
            MailstreamConfig config, String bootstrapServers, Map<String, ?> overrides, Time time) {
        SchemaTopicRegistry schemas = new SchemaTopicRegistry(KafkaClients.common(bootstrapServers));
        Properties props = properties(config, bootstrapServers);
        props.putAll(overrides);
        ChangesLog changesLog =
                new KafkaChangesLog(bootstrapServers, props.getProperty(StreamsConfig.APPLICATION_ID_CONFIG));
        KafkaStreams streams = new KafkaStreams(
                MailstreamTopology.build(config, schemas, MailstreamMetrics.registry(), changesLog), props, time);
        streams.setUncaughtExceptionHandler(MailstreamStreams::onThreadFailure);
        return new MailstreamStreams(config, bootstrapServers, schemas, changesLog, streams);
    }

    /**
     * What a failure means is ErrorPolicy's call: a passing cause gets a fresh thread that resumes
     * from the last committed transaction; a reason to stop stops this client. (An event that fails
     * for a reason of its own does not get here before it has written anything: the processor
     * dead-letters it, at once or after {@code errors.retry.attempts}.)
     */
    static StreamThreadExceptionResponse onThreadFailure(Throwable error) {
        if (ErrorPolicy.handle(ROLE, error) == ErrorPolicy.Action.STOP) {
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        // Visible while it lasts: a cause that does not pass shows as a steadily rising count.
        MailstreamMetrics.registry().counter(THREAD_REPLACEMENTS_METER).increment();
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    /** Creates missing topics, then starts processing (returns at once; processing runs in the background). */
    public void start() {
        TopicAdmin.ensureTopics(config, bootstrapServers);
        streams.start();
        LOG.info(
                "streams started: application {}, tiers {}",
                config.get(ConfigKeys.STREAMS_APPLICATION_ID),
                config.tiers());
    }

    public KafkaStreams kafkaStreams() {
        return streams;
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(30));
        changesLog.close();
        schemas.close();
    }

    static Properties properties(MailstreamConfig config, String bootstrapServers) {
        int maxRecordBytes = config.get(ConfigKeys.KAFKA_MAX_RECORD_BYTES);
        Properties p = new Properties();
        // Top-level client properties (security, SASL, TLS) apply to every client Kafka Streams makes.
        p.putAll(KafkaClients.common(bootstrapServers));
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.get(ConfigKeys.STREAMS_APPLICATION_ID));
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(
                StreamsConfig.STATE_DIR_CONFIG,
                config.dataDir().resolve("streams").toString());
        // The global stores' processors are plain copies; opting in now is what Kafka 5 will do anyway.
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) changesSpec(config).replicationFactor());
        // Its changelogs and repartition topics are as durable as mailstream's own topics.
        p.put(
                StreamsConfig.topicPrefix("min.insync.replicas"),
                changesSpec(config).configs().get("min.insync.replicas"));
        p.put(StreamsConfig.topicPrefix("unclean.leader.election.enable"), "false");
        // A dead letter wraps a whole event (a content chunk of up to kafka.max.record.bytes) plus its detail.
        p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), maxRecordBytes + 128 * 1024);
        return p;
    }

    private static Topics.TopicSpec changesSpec(MailstreamConfig config) {
        return Topics.required(config).stream()
                .filter(s -> s.name().equals(Topics.CHANGES))
                .findFirst()
                .orElseThrow();
    }
}
