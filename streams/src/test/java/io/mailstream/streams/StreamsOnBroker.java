package io.mailstream.streams;

import static io.mailstream.streams.CommittedReads.readAll;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaResolver;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.streams.StreamsConfig;

/** The streams application on the embedded broker, as the tests run it. */
final class StreamsOnBroker {
    private static final AvroCodec<DeadLetter> LETTER = AvroCodec.deadLetter(SchemaResolver.none());

    private StreamsOnBroker() {}

    /** Settings for one broker: its address, topics of {@code partitions} partitions without replicas, state under {@code dataDir}. */
    static Map<String, String> settings(String bootstrap, Path dataDir, int partitions) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("kafka.bootstrap.servers", bootstrap);
        values.put("kafka.topic.partitions", String.valueOf(partitions));
        values.put("kafka.topic.replication.factor", "1");
        values.put("kafka.topic.min.insync.replicas", "1");
        values.put("data.dir", dataDir.toString());
        return values;
    }

    /** Starts the application in this JVM on {@code time}, committing often, one thread. */
    static MailstreamStreams start(MailstreamConfig config, String bootstrap, Time time) {
        MailstreamStreams app = MailstreamStreams.build(
                config,
                bootstrap,
                Map.of(
                        StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
                        100,
                        StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG,
                        0,
                        StreamsConfig.NUM_STREAM_THREADS_CONFIG,
                        1,
                        // The broker's minimum: a restarted instance takes over once the first one's session expired.
                        StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG),
                        6_000,
                        StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG),
                        1_000),
                time);
        app.start();
        return app;
    }

    /** Every dead letter as "reason: detail". */
    static List<String> deadLetters(String bootstrap) {
        return readAll(bootstrap, Topics.DLQ).stream()
                .map(r -> LETTER.decode(r.value()))
                .map(letter -> letter.getReason() + ": " + letter.getDetail())
                .toList();
    }
}
