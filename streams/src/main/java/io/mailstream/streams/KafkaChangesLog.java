package io.mailstream.streams;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ChangesLog} from the broker: the end offsets of mailstream.changes, compared with the
 * offsets the streams application (its consumer group) has committed. Kafka Streams commits its
 * consumer's position, which lies past the commit markers of transactions; where a committed offset
 * is still below the end, a read_committed reader checks whether anything but such markers (or
 * aborted records) lies between. The work runs on one daemon thread of its own, never on a stream
 * thread.
 */
final class KafkaChangesLog implements ChangesLog {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaChangesLog.class);
    private static final Duration RECHECK = MailstreamTopology.PARKED_RETRY_INTERVAL;
    private static final Duration READ_WAIT = Duration.ofMillis(500);

    private final String groupId;
    private final Admin admin;
    /** Used by the worker thread only (a consumer is single-threaded). */
    private final KafkaConsumer<byte[], byte[]> reader;

    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "mailstream-changes-log");
        t.setDaemon(true);
        return t;
    });
    private CompletableFuture<Mark> current;
    private volatile boolean closed;

    KafkaChangesLog(String bootstrapServers, String groupId) {
        this.groupId = groupId;
        this.admin = Admin.create(KafkaClients.adminProps(bootstrapServers));
        Map<String, Object> props = new HashMap<>(KafkaClients.consumerProps(bootstrapServers, null));
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 64 * 1024);
        this.reader = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public synchronized CompletionStage<Mark> readToEnd() {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the mailstream.changes reader is closed"));
        }
        if (current == null || current.isDone()) {
            current = CompletableFuture.supplyAsync(this::waitUntilRead, worker);
        }
        return current;
    }

    private Mark waitUntilRead() {
        Map<String, TopicDescription> topics = get(admin.describeTopics(List.of(Topics.CHANGES, Topics.STREAMS_CONTENT))
                .allTopicNames());
        Map<TopicPartition, OffsetSpec> latest = topics.get(Topics.CHANGES).partitions().stream()
                .collect(Collectors.toMap(
                        p -> new TopicPartition(Topics.CHANGES, p.partition()), p -> OffsetSpec.latest()));
        Map<TopicPartition, Long> end = get(
                        admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
                                .all())
                .entrySet()
                .stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
        Map<TopicPartition, OffsetAndMetadata> before = Map.of();
        while (!closed) {
            Map<TopicPartition, OffsetAndMetadata> committed = get(admin.listConsumerGroupOffsets(
                            Map.of(groupId, new ListConsumerGroupOffsetsSpec().topicPartitions(end.keySet())),
                            new ListConsumerGroupOffsetsOptions().requireStable(true))
                    .partitionsToOffsetAndMetadata(groupId));
            Map<TopicPartition, OffsetAndMetadata> previous = before;
            if (end.entrySet().stream()
                    .allMatch(e ->
                            readUpTo(e.getKey(), committed.get(e.getKey()), previous.get(e.getKey()), e.getValue()))) {
                return new Mark(
                        end.entrySet().stream()
                                .collect(Collectors.toMap(e -> e.getKey().partition(), Map.Entry::getValue)),
                        topics.get(Topics.STREAMS_CONTENT).partitions().size());
            }
            before = new HashMap<>(committed);
            try {
                Thread.sleep(RECHECK.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new IllegalStateException("the mailstream.changes reader is closed");
    }

    /**
     * True when the group has read the partition up to {@code end}: committed there, or only
     * markers in between. The reader looks only where the committed offset stood still since the
     * last look: a task that is busy reading will commit further by itself.
     */
    private boolean readUpTo(
            TopicPartition partition, OffsetAndMetadata committed, OffsetAndMetadata before, long end) {
        if (committed != null && committed.offset() >= end) {
            return true;
        }
        if (offsetOf(committed) != offsetOf(before)) {
            return false;
        }
        reader.assign(List.of(partition));
        if (committed == null) {
            reader.seekToBeginning(List.of(partition));
        } else {
            reader.seek(partition, committed.offset());
        }
        for (ConsumerRecord<byte[], byte[]> r : reader.poll(READ_WAIT)) {
            if (r.offset() < end) {
                return false; // a record the application has not committed yet
            }
        }
        return reader.position(partition) >= end;
    }

    private static long offsetOf(OffsetAndMetadata committed) {
        return committed == null ? -1 : committed.offset();
    }

    private static <T> T get(KafkaFuture<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw new CompletionException(
                    "cannot tell how far mailstream.changes has been read: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        }
    }

    @Override
    public void close() {
        closed = true;
        reader.wakeup();
        worker.shutdownNow();
        boolean stopped = false;
        try {
            stopped = worker.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (stopped) {
            reader.close();
        } else {
            LOG.warn("the mailstream.changes reader did not stop within 10 s; its consumer is left to the JVM");
        }
        admin.close(Duration.ofSeconds(5));
    }
}
