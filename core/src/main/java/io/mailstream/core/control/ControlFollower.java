package io.mailstream.core.control;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.KafkaUnavailableException;
import io.mailstream.core.kafka.TopicReader;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code mailstream.control} live: reads it to the end when started, then keeps reading
 * on its own thread and tells a listener each time a committed record changes what it holds.
 * A view, not a lock: whoever acts on it must still be fenced at the broker when it is stale.
 */
public final class ControlFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlFollower.class);
    private static final Duration POLL = Duration.ofMillis(500);

    private final KafkaConsumer<String, ControlEvent> consumer;
    private final Map<String, ControlEvent> latest = new LinkedHashMap<>();
    private final Consumer<ControlState> listener;
    private final Thread thread;
    private volatile ControlState current;
    private volatile boolean running = true;

    private ControlFollower(String bootstrapServers, SchemaResolver schemas, Consumer<ControlState> listener) {
        this.consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrapServers, null),
                new StringDeserializer(),
                AvroSerdes.controlEvent(schemas).deserializer());
        this.listener = listener;
        try {
            TopicReader.readToEnd(consumer, Topics.CONTROL, Duration.ofSeconds(30), this::take);
        } catch (RuntimeException e) {
            consumer.close(Duration.ZERO);
            if (e instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw new KafkaUnavailableException("cannot read " + Topics.CONTROL + " from " + bootstrapServers, e);
            }
            throw e;
        }
        this.current = new ControlState(Map.copyOf(latest));
        this.thread = new Thread(this::follow, "mailstream-control-follower");
        thread.setDaemon(true);
    }

    /** Reads the control topic to its end, then follows it; {@code listener} hears every change (on the follower's thread). */
    public static ControlFollower start(
            String bootstrapServers, SchemaResolver schemas, Consumer<ControlState> listener) {
        ControlFollower f = new ControlFollower(bootstrapServers, schemas, listener);
        f.thread.start();
        return f;
    }

    /** The control state as last read. */
    public ControlState current() {
        return current;
    }

    private void take(ConsumerRecord<String, ControlEvent> r) {
        if (r.value() == null) latest.remove(r.key());
        else latest.put(r.key(), r.value());
    }

    private void follow() {
        while (running) {
            try {
                var records = consumer.poll(POLL);
                if (records.isEmpty()) {
                    continue;
                }
                records.forEach(this::take);
                current = new ControlState(Map.copyOf(latest));
                listener.accept(current);
            } catch (WakeupException e) {
                break;
            } catch (RuntimeException e) {
                // Keep the last view: a capture acting on it is fenced at the broker if it is stale.
                LOG.warn("following {} failed, retrying: {}", Topics.CONTROL, e.toString());
                try {
                    Thread.sleep(POLL.toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        consumer.close(Duration.ofSeconds(5));
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
