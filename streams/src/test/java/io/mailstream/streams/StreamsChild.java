package io.mailstream.streams;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The streams application alone in a JVM, so that a test can kill it abruptly (SIGKILL): no
 * close, no flush, no commit. Argument: the configuration file. Prints RUNNING once processing.
 */
public final class StreamsChild {
    public static void main(String[] args) throws InterruptedException {
        MailstreamConfig config = MailstreamConfig.load(Path.of(args[0]), true, Map.of());
        MailstreamStreams app = MailstreamStreams.build(
                config,
                config.get(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS),
                Map.of(
                        StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
                        100,
                        StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG,
                        0,
                        StreamsConfig.NUM_STREAM_THREADS_CONFIG,
                        1,
                        // The broker's minimum: a killed instance stays in the group until its session
                        // expires, and the restarted one cannot take over its tasks before that.
                        StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG),
                        6_000,
                        StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG),
                        1_000));
        app.kafkaStreams().setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                System.out.println("RUNNING");
            }
        });
        app.start();
        Thread.currentThread().join(); // until killed
    }
}
