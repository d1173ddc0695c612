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
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the events of one APPLY to {@code mailstream.changes} in one Kafka transaction and
 * returns only once it committed (design.md "Nothing acknowledged is lost"). Any failure aborts
 * and becomes {@code NO IMAP_AGAIN}, so Cyrus keeps the change in its sync log and retries; the
 * producer is then recreated, because after a failed transaction its state is unknown.
 *
 * <p>The transactional id is the tier's, so a promotion fences this producer at the broker. A
 * producer is made for one epoch: after {@code initTransactions} (which fences any other capture
 * of the tier) mailstream.control is read again, and the producer is used only if it still names
 * this tier primary at that epoch; a capture that started between a promotion's fence and its
 * record of it therefore refuses too. Fenced while mailstream.control has moved on: a promotion,
 * every APPLY is refused until this tier is primary again. Fenced while it still names this tier
 * at the same epoch: a second capture of the tier took over, which is final ({@link ErrorPolicy}
 * STOP): from then on every APPLY is refused.
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

    /** The epoch at which mailstream.control, read to its end now, names this capture's tier primary; empty if it does not. */
    @FunctionalInterface
    interface PrimaryCheck {
        java.util.OptionalLong epochIfPrimary();
    }

    private final Map<String, Object> producerProps;
    private final SchemaResolver schemas;
    private final CaptureSource source;
    private final PrimaryCheck primaryCheck;
    private final Consumer<Throwable> onFenced;
    private final Counter events;
    private final Counter bytes;
    private final Timer commitLatency;
    private KafkaProducer<String, ChangeEvent> producer;
    /** The epoch {@link #producer} was verified for. */
    private long producerEpoch;

    private volatile Throwable fenced;

    ChangePublisher(
            String bootstrapServers,
            String transactionalId,
            int maxRecordBytes,
            SchemaResolver schemas,
            CaptureSource source,
            PrimaryCheck primaryCheck,
            MeterRegistry metrics,
            Consumer<Throwable> onFenced) {
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
        this.primaryCheck = primaryCheck;
        this.onFenced = onFenced;
        this.events = metrics.counter("mailstream.capture.events");
        this.bytes = metrics.counter("mailstream.capture.bytes");
        // A histogram, not just count and sum: alerts and dashboards need the commit latency's quantiles.
        this.commitLatency = Timer.builder("mailstream.capture.commit")
                .description("Time from beginning a change's Kafka transaction to its commit (before Cyrus hears OK)")
                .serviceLevelObjectives(Stream.of(2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
                        .map(Duration::ofMillis)
                        .toArray(Duration[]::new))
                .register(metrics);
    }

    /** Connects and fences any other capture of the tier, if the tier is primary at {@code epoch}. */
    synchronized void start(long epoch) throws CsyncException {
        producer(epoch);
    }

    boolean isFenced() {
        return fenced != null;
    }

    /** Publishes the changes in one transaction, stamped with {@code epoch}; returns the number of events once committed. */
    synchronized int publish(Changes changes, Sequences sequences, long epoch) throws CsyncException {
        KafkaProducer<String, ChangeEvent> p = producer(epoch);
        CaptureSource stamp = source.atEpoch(producerEpoch);
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
                    ChangeEvent event = stamp.event(change, sequences.next(), captureTime);
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
        ErrorPolicy.Action action = ErrorPolicy.classify(e);
        try {
            p.abortTransaction();
        } catch (RuntimeException abortFailed) {
            LOG.debug("abort after a failed transaction failed too: {}", abortFailed.toString());
        }
        long epoch = producerEpoch;
        closeProducer();
        if (action == ErrorPolicy.Action.STOP && isFencing(e) && !stillPrimaryAt(epoch)) {
            LOG.info(
                    "capture of tier {}: fenced by a promotion (it held epoch {}); refusing every APPLY until the tier is"
                            + " primary again",
                    source.tier(),
                    epoch);
            return new CsyncException(
                    CsyncError.AGAIN, "tier " + source.tier() + " is no longer primary: " + e.getMessage(), e);
        }
        ErrorPolicy.handle(ROLE, e); // logs what the error means
        if (action == ErrorPolicy.Action.STOP) {
            fenced = e;
            onFenced.accept(e);
            return new CsyncException(CsyncError.AGAIN, "capture stopped: " + e.getMessage(), e);
        }
        return new CsyncException(CsyncError.AGAIN, "Kafka did not take the change, retry later: " + e.getMessage(), e);
    }

    private static boolean isFencing(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.apache.kafka.common.errors.ProducerFencedException
                    || t instanceof org.apache.kafka.common.errors.InvalidProducerEpochException) {
                return true;
            }
        }
        return false;
    }

    /** Whether mailstream.control still names this tier primary at {@code epoch}; when it cannot be read, assume a promotion. */
    private boolean stillPrimaryAt(long epoch) {
        try {
            java.util.OptionalLong now = primaryCheck.epochIfPrimary();
            return now.isPresent() && now.getAsLong() == epoch;
        } catch (RuntimeException e) {
            LOG.warn("cannot read mailstream.control after being fenced: {}", e.toString());
            return false;
        }
    }

    private KafkaProducer<String, ChangeEvent> producer(long epoch) throws CsyncException {
        if (fenced != null) {
            // sync_client reconnects and retries at once, forever: slow that loop down.
            pause(Duration.ofSeconds(1));
            throw new CsyncException(
                    CsyncError.AGAIN,
                    "capture was fenced by another capture of tier " + source.tier() + ": " + fenced.getMessage());
        }
        if (producer != null && producerEpoch != epoch) {
            closeProducer(); // made for another epoch: verify afresh
        }
        if (producer == null) {
            KafkaProducer<String, ChangeEvent> p = new KafkaProducer<>(
                    producerProps,
                    new StringSerializer(),
                    AvroSerdes.changeEvent(schemas).serializer());
            java.util.OptionalLong verified;
            try {
                p.initTransactions();
                verified = primaryCheck.epochIfPrimary(); // read after the fence: no promotion can slip in between
            } catch (RuntimeException e) {
                p.close(Duration.ZERO);
                ErrorPolicy.handle(ROLE, e);
                throw new CsyncException(CsyncError.AGAIN, "cannot reach Kafka: " + e.getMessage(), e);
            }
            if (verified.isEmpty() || verified.getAsLong() != epoch) {
                p.close(Duration.ZERO);
                throw new CsyncException(
                        CsyncError.AGAIN,
                        "tier " + source.tier() + " is not the primary at epoch " + epoch
                                + " any more (mailstream.control has moved on): refused, Cyrus keeps the change");
            }
            producer = p;
            producerEpoch = epoch;
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
