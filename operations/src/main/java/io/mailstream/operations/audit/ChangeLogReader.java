package io.mailstream.operations.audit;

import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaCatalog;
import io.mailstream.schemas.codec.SchemaResolver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads one partition key's events from {@code mailstream.changes}: only the partition the key
 * hashes to, from the first offset at or after a time (the broker's time index), up to the
 * committed end. Message bodies are not decoded: the payload's union branch is read right after
 * the envelope, and a content event stops there unless the caller asked for bodies.
 */
public final class ChangeLogReader implements AutoCloseable {
    /**
     * Capture stamps captureTime before it sends, so a record's Kafka timestamp is at or after its
     * captureTime; a transaction lasts at most this long (capture's transaction timeout).
     */
    static final long TIMESTAMP_SLACK_MS = 60_000;

    /** One event as read: its position, and the event itself (a content event only with its envelope unless bodies were asked for). */
    public record LoggedEvent(int partition, long offset, Envelope envelope, ChangeEvent event, boolean content) {}

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroCodec<ChangeEvent> codec;
    private final SchemaResolver schemas;
    private final Map<Long, Peek> peeks = new HashMap<>();

    public ChangeLogReader(Map<String, Object> consumerProps, SchemaResolver schemas) {
        Map<String, Object> props = new HashMap<>(consumerProps);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 * 1024 * 1024);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.schemas = schemas;
        this.codec = AvroCodec.changeEvent(schemas);
        AvroCodec.trustGeneratedClasses();
    }

    /** The partition of {@code mailstream.changes} that holds {@code partitionKey}'s events. */
    public TopicPartition partitionOf(String partitionKey) {
        List<PartitionInfo> parts = consumer.partitionsFor(Topics.CHANGES, Duration.ofSeconds(30));
        if (parts == null || parts.isEmpty()) {
            throw new IllegalStateException("topic " + Topics.CHANGES + " does not exist");
        }
        return new TopicPartition(Topics.CHANGES, Topics.partitionOf(partitionKey, parts.size()));
    }

    /**
     * Calls {@code sink} with {@code partitionKey}'s events in log order whose Kafka timestamp is
     * at or after {@code fromMs} (0: from the oldest), stopping once the committed end (as of the
     * call) is reached or a record is stamped later than {@code untilMs} plus the slack. Before the
     * first event, {@code onStart} hears whether reading starts at the oldest offset of the
     * partition (the whole history is seen); the same is returned.
     */
    public boolean read(
            String partitionKey,
            long fromMs,
            long untilMs,
            boolean withBodies,
            Consumer<Boolean> onStart,
            Consumer<LoggedEvent> sink) {
        TopicPartition tp = partitionOf(partitionKey);
        consumer.assign(List.of(tp));
        long begin = consumer.beginningOffsets(List.of(tp)).get(tp);
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        long start = begin;
        if (fromMs > 0) {
            OffsetAndTimestamp at = consumer.offsetsForTimes(Map.of(tp, fromMs)).get(tp);
            start = at == null ? end : at.offset();
        }
        consumer.seek(tp, start);
        onStart.accept(start == begin);
        long stopAfter = untilMs == Long.MAX_VALUE ? Long.MAX_VALUE : untilMs + TIMESTAMP_SLACK_MS;
        while (consumer.position(tp) < end) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                if (r.offset() >= end || r.timestamp() > stopAfter) {
                    return start == begin;
                }
                if (r.value() == null || !partitionKey.equals(key(r.key()))) {
                    continue; // other keys share the partition
                }
                sink.accept(decode(r, withBodies));
            }
        }
        return start == begin;
    }

    private static String key(byte[] key) {
        return key == null ? null : new String(key, java.nio.charset.StandardCharsets.UTF_8);
    }

    private LoggedEvent decode(ConsumerRecord<byte[], byte[]> r, boolean withBodies) {
        byte[] bytes = r.value();
        if (!withBodies) {
            Peek peek = peeks.computeIfAbsent(fingerprint(bytes), this::peekFor);
            if (peek != null) {
                BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, 10, bytes.length - 10, null);
                try {
                    Envelope envelope = peek.envelope.read(null, decoder);
                    if (decoder.readIndex() == peek.contentBranch) {
                        return new LoggedEvent(r.partition(), r.offset(), envelope, null, true);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(
                            "corrupt event at " + r.topic() + "-" + r.partition() + "@" + r.offset(), e);
                }
            }
        }
        ChangeEvent event = codec.decode(bytes);
        boolean content = event.getPayload() instanceof io.mailstream.schemas.MessageContent;
        return new LoggedEvent(r.partition(), r.offset(), event.getEnvelope(), event, content);
    }

    /** How to read only a writer schema's envelope and payload branch; null when that schema cannot be peeked (then decoded whole). */
    private record Peek(SpecificDatumReader<Envelope> envelope, int contentBranch) {}

    private Peek peekFor(long fingerprint) {
        Schema writer = SchemaCatalog.shipped()
                .find(fingerprint)
                .or(() -> schemas.resolve(fingerprint))
                .orElse(null);
        if (writer == null
                || writer.getType() != Schema.Type.RECORD
                || writer.getFields().size() < 2
                || !writer.getFields().get(0).name().equals("envelope")
                || !writer.getFields().get(1).name().equals("payload")) {
            return null;
        }
        Schema payload = writer.getFields().get(1).schema();
        int branch = -1;
        for (int i = 0; i < payload.getTypes().size(); i++) {
            if (payload.getTypes().get(i).getName().equals("MessageContent")) branch = i;
        }
        if (branch < 0) return null;
        return new Peek(
                new SpecificDatumReader<>(writer.getFields().get(0).schema(), Envelope.getClassSchema()), branch);
    }

    private static long fingerprint(byte[] bytes) {
        if (bytes.length < 10) return 0;
        long fp = 0;
        for (int i = 0; i < 8; i++) fp |= (bytes[2 + i] & 0xffL) << (8 * i);
        return fp;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
