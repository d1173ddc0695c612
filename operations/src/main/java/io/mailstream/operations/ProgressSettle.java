package io.mailstream.operations;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicReader;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.TierProgress;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * {@link Check.Settle.Progress} from what a tier's sink reports to {@code mailstream.progress} (key
 * {@code <tier>|<user>}): the capture time of the newest event it applied for the user. Polls the
 * one partition that key lives in until the tier has applied up to the time asked, or gives up
 * after {@code patience} (a tier that is down or far behind).
 */
public final class ProgressSettle implements Check.Settle.Progress, AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String tier;
    private final Duration patience;
    private final SchemaTopicRegistry schemas;
    private final AvroCodec<TierProgress> codec;
    private final KafkaConsumer<String, byte[]> consumer;

    public ProgressSettle(String bootstrapServers, String tier, Duration patience) {
        this.tier = tier;
        this.patience = patience;
        this.schemas = new SchemaTopicRegistry(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
        this.codec = AvroCodec.tierProgress(schemas);
        this.consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrapServers, null),
                new StringDeserializer(),
                new ByteArrayDeserializer());
    }

    @Override
    public boolean awaitApplied(String partitionKey, long captureTime) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        long backoff = 100;
        while (true) {
            if (applied(partitionKey) >= captureTime) return true;
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, 2000);
        }
    }

    /** The capture time of the newest event the tier reported applied for this key; 0 if none. */
    long applied(String partitionKey) {
        String key = Topics.progressKey(tier, partitionKey);
        int partitions = consumer.partitionsFor(Topics.PROGRESS, TIMEOUT).size();
        long[] newest = {0};
        try {
            TopicReader.readPartitionsToEndWhileProgressing(
                    consumer,
                    List.of(new TopicPartition(Topics.PROGRESS, Topics.partitionOf(key, partitions))),
                    TIMEOUT,
                    r -> {
                        if (key.equals(r.key()) && r.value() != null) {
                            newest[0] =
                                    Math.max(newest[0], codec.decode(r.value()).getLastCaptureTime());
                        }
                    });
        } finally {
            consumer.unsubscribe();
        }
        return newest[0];
    }

    @Override
    public void close() {
        consumer.close();
        schemas.close();
    }
}
