package io.mailstream.bench;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.codec.AvroSerdes;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A read_committed consumer of a topic of ChangeEvents (mailstream.changes or a tier's feed), from
 * its end at construction, on its own thread: notes (System.nanoTime) when each message record,
 * {@code <mailbox>/<uid>}, first appears in a RecordsUpsert. Capture and streams write a
 * mailbox's records in transactions, so that moment is when the change became readable by the
 * next hop.
 */
final class CommittedRecords implements AutoCloseable {
    private final KafkaConsumer<String, ChangeEvent> consumer;
    private final Map<String, Long> firstSeen = new ConcurrentHashMap<>();
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;
    private final String topic;

    CommittedRecords(String bootstrapServers, String topic) {
        consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrapServers, null),
                new StringDeserializer(),
                AvroSerdes.changeEvent().deserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // resolve the end now, not at the first poll
        this.topic = topic;
        thread = new Thread(this::consume, "bench-records-" + topic);
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
                throw new IllegalStateException("reading " + topic + " failed", failure.get());
            }
            if (System.nanoTime() > deadline) {
                long missing =
                        keys.stream().filter(k -> !firstSeen.containsKey(k)).count();
                throw new IllegalStateException(
                        missing + " of " + keys.size() + " records not in " + topic + " after " + timeout);
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
