package io.mailstream.sinks;

import io.mailstream.core.errors.DeadLetters;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.DeadLetterReason;
import io.mailstream.schemas.codec.AvroCodec;
import io.micrometer.core.instrument.Counter;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A sink's dead-letter reporter: writes a feed record to {@code mailstream.dlq} with its reason and waits for the broker's ack. */
final class DeadLetterWriter {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterWriter.class);

    private final String role;
    private final Producer<byte[], byte[]> producer;
    private final AvroCodec<DeadLetter> codec;
    /** The counter of letters written for a reason. */
    private final Function<DeadLetterReason, Counter> written;

    DeadLetterWriter(
            String role,
            Producer<byte[], byte[]> producer,
            AvroCodec<DeadLetter> codec,
            Function<DeadLetterReason, Counter> written) {
        this.role = role;
        this.producer = producer;
        this.codec = codec;
        this.written = written;
    }

    /** Returns once the DLQ holds the record (only then may its offset be committed); throws if it cannot. */
    void write(ConsumerRecord<byte[], byte[]> record, String eventId, DeadLetterReason reason, String detail) {
        DeadLetter letter = DeadLetters.of(
                reason,
                role + ": " + detail,
                record.topic(),
                record.partition(),
                record.offset(),
                record.key(),
                record.value(),
                eventId,
                System.currentTimeMillis());
        try {
            producer.send(new ProducerRecord<>(Topics.DLQ, record.key(), codec.encode(letter)))
                    .get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while writing to " + Topics.DLQ, e);
        } catch (Exception e) {
            throw new KafkaException("cannot write to " + Topics.DLQ + ": " + e.getMessage(), e);
        }
        written.apply(reason).increment();
        LOG.warn(
                "{}: dead-lettered {}-{}@{} ({}): {}",
                role,
                record.topic(),
                record.partition(),
                record.offset(),
                reason,
                detail);
    }
}
