package io.mailstream.producers.capture;

import io.mailstream.bridge.capture.CaptureSource;
import io.mailstream.bridge.capture.Change;
import io.mailstream.core.errors.ErrorPolicy;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Writes the events of one APPLY to {@code mailstream.changes} in one Kafka transaction and
 * returns only once it committed (design.md "Nothing acknowledged is lost"). Any failure aborts
 * and becomes {@code NO IMAP_AGAIN}, so Cyrus keeps the change in its sync log and retries; the
 * producer is then recreated, because after a failed transaction its state is unknown. Being
 * fenced by a newer capture with the same transactional id is final ({@link ErrorPolicy} STOP):
 * from then on every APPLY is refused.
 */
final class ChangePublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChangePublisher.class);
    private static final String ROLE = "capture";
    static final int CAPTURE_BATCH_BYTES = 1 << 20;

    /** Writes the changes of one command to the sink it is given. */
    @FunctionalInterface
    interface Changes {
        void writeTo(Consumer<Change> sink) throws IOException;
    }

    /** Hands out durable, increasing sequence numbers. */
    @FunctionalInterface
    interface Sequences {
        long next() throws IOException;
    }

    private final Map<String, Object> producerProps;
    private final SchemaResolver schemas;
    private final CaptureSource source;
    private final Consumer<Throwable> onFenced;
    private final Counter events;
    private final Counter bytes;
    private final Timer commitLatency;
    private KafkaProducer<String, ChangeEvent> producer;
    private volatile Throwable fenced;

    ChangePublisher(String bootstrapServers, String transactionalId, int maxRecordBytes, SchemaResolver schemas,
                    CaptureSource source, MeterRegistry metrics, Consumer<Throwable> onFenced) {
        Map<String, Object> props = KafkaClients.producerProps(bootstrapServers, transactionalId, maxRecordBytes);
        // Fail an APPLY within seconds when the broker is away: Cyrus retries it anyway, and a
        // sync_client stuck for a minute on one APPLY helps nobody.
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000);
        // One APPLY MAILBOX of a backlog carries megabytes of bodies to one partition: with the
        // default 16 KB batches that is a produce request per body, at most five in flight, and
        // the commit waits for them all. Batches of up to a content chunk and more cut that to a few.
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, CAPTURE_BATCH_BYTES);
        this.producerProps = props;
        this.schemas = schemas;
        this.source = source;
        this.onFenced = onFenced;
        this.events = metrics.counter("mailstream.capture.events");
        this.bytes = metrics.counter("mailstream.capture.bytes");
        // A histogram, not just count and sum: alerts and dashboards need the commit latency's quantiles.
        this.commitLatency = Timer.builder("mailstream.capture.commit")
                .description("Time from beginning a change's Kafka transaction to its commit (before Cyrus hears OK)")
                .serviceLevelObjectives(Stream.of(2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
                        .map(Duration::ofMillis).toArray(Duration[]::new))
                .register(metrics);
    }

    /** Connects and fences any older capture with the same transactional id. */
    synchronized void start() throws CsyncException {
        producer();
    }

    boolean isFenced() {
        return fenced != null;
    }

    /** Publishes the changes in one transaction; returns the number of events once committed. */
    synchronized int publish(Changes changes, Sequences sequences) throws CsyncException {
        KafkaProducer<String, ChangeEvent> p = producer();
        long start = System.nanoTime();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try {
            p.beginTransaction();
            long captureTime = System.currentTimeMillis();
            IOException[] failure = new IOException[1];
            changes.writeTo(change -> {
                if (failure[0] != null) {
                    return;
                }
                try {
                    ChangeEvent event = source.event(change, sequences.next(), captureTime);
                    sent.add(p.send(new ProducerRecord<>(Topics.CHANGES, change.partitionKey(), event)));
                } catch (IOException e) {
                    failure[0] = e;
                }
            });
            if (failure[0] != null) {
                throw failure[0];
            }
            p.commitTransaction();
        } catch (Exception e) {
            throw fail(p, e);
        }
        commitLatency.record(Duration.ofNanos(System.nanoTime() - start));
        long total = 0;
        for (Future<RecordMetadata> f : sent) {
            total += f.isDone() ? metadata(f).serializedValueSize() : 0;
        }
        events.increment(sent.size());
        bytes.increment(total);
        return sent.size();
    }

    private CsyncException fail(KafkaProducer<String, ChangeEvent> p, Exception e) {
        ErrorPolicy.Action action = ErrorPolicy.handle(ROLE, e);
        try {
            p.abortTransaction();
        } catch (RuntimeException abortFailed) {
            LOG.debug("abort after a failed transaction failed too: {}", abortFailed.toString());
        }
        closeProducer();
        if (action == ErrorPolicy.Action.STOP) {
            fenced = e;
            onFenced.accept(e);
            return new CsyncException(CsyncError.AGAIN, "capture stopped: " + e.getMessage(), e);
        }
        return new CsyncException(CsyncError.AGAIN, "Kafka did not take the change, retry later: " + e.getMessage(), e);
    }

    private KafkaProducer<String, ChangeEvent> producer() throws CsyncException {
        if (fenced != null) {
            // sync_client reconnects and retries at once, forever: slow that loop down.
            pause(Duration.ofSeconds(1));
            throw new CsyncException(CsyncError.AGAIN, "capture was fenced by another capture with the same server id: "
                    + fenced.getMessage());
        }
        if (producer == null) {
            KafkaProducer<String, ChangeEvent> p = new KafkaProducer<>(producerProps, new StringSerializer(),
                    AvroSerdes.changeEvent(schemas).serializer());
            try {
                p.initTransactions();
            } catch (RuntimeException e) {
                p.close(Duration.ZERO);
                ErrorPolicy.handle(ROLE, e);
                throw new CsyncException(CsyncError.AGAIN, "cannot reach Kafka: " + e.getMessage(), e);
            }
            producer = p;
        }
        return producer;
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeProducer() {
        if (producer != null) {
            producer.close(Duration.ZERO);
            producer = null;
        }
    }

    private static RecordMetadata metadata(Future<RecordMetadata> f) {
        try {
            return f.get();
        } catch (Exception e) {
            throw new IllegalStateException("a send of a committed transaction failed", e);
        }
    }

    @Override
    public synchronized void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
            producer = null;
        }
    }
}
