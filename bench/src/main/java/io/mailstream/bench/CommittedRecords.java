package io.mailstream.bench;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.codec.AvroSerdes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A read_committed consumer of mailstream.changes, from its end at construction, on its own
 * thread: notes (System.nanoTime) when each message record, {@code <mailbox>/<uid>}, first
 * appears in a RecordsUpsert. Capture writes a mailbox's records and header in the transaction
 * it commits before answering OK, so that moment is when the change became readable downstream.
 */
final class CommittedRecords implements AutoCloseable {
    private final KafkaConsumer<String, ChangeEvent> consumer;
    private final Map<String, Long> firstSeen = new ConcurrentHashMap<>();
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;

    CommittedRecords(String bootstrapServers) {
        consumer = new KafkaConsumer<>(KafkaClients.consumerProps(bootstrapServers, null), new StringDeserializer(),
                AvroSerdes.changeEvent().deserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(Topics.CHANGES).stream()
                .map(p -> new TopicPartition(Topics.CHANGES, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // resolve the end now, not at the first poll
        thread = new Thread(this::consume, "bench-committed-records");
        thread.start();
    }

    static String key(String mailbox, long uid) {
        return mailbox + "/" + uid;
    }

    private void consume() {
        try {
            while (true) {
                for (ConsumerRecord<String, ChangeEvent> r : consumer.poll(Duration.ofSeconds(1))) {
                    long now = System.nanoTime();
                    events.incrementAndGet();
                    bytes.addAndGet(r.serializedValueSize());
                    if (r.value().getPayload() instanceof RecordsUpsert upsert) {
                        for (MessageRecord m : upsert.getRecords()) {
                            firstSeen.putIfAbsent(key(upsert.getMailboxName(), m.getUid()), now);
                        }
                    }
                }
            }
        } catch (WakeupException closing) {
            // close() asked us to stop
        } catch (RuntimeException e) {
            failure.set(e);
        } finally {
            consumer.close();
        }
    }

    /** The first-seen time of every key, once all are there; fails after {@code timeout}. */
    Map<String, Long> await(Collection<String> keys, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!firstSeen.keySet().containsAll(keys)) {
            if (failure.get() != null) {
                throw new IllegalStateException("reading mailstream.changes failed", failure.get());
            }
            if (System.nanoTime() > deadline) {
                long missing = keys.stream().filter(k -> !firstSeen.containsKey(k)).count();
                throw new IllegalStateException(missing + " of " + keys.size() + " records not in mailstream.changes after " + timeout);
            }
            Thread.sleep(5);
        }
        return Map.copyOf(firstSeen);
    }

    long events() {
        return events.get();
    }

    long bytes() {
        return bytes.get();
    }

    @Override
    public void close() throws InterruptedException {
        consumer.wakeup();
        thread.join();
    }
}
