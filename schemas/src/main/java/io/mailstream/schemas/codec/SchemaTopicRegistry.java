package io.mailstream.schemas.codec;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The schema registry kept in the compacted topic {@value #TOPIC}: key = fingerprint as 16 hex
 * digits, value = the schema's JSON. The topic is assumed to exist (compacted, RF as for every
 * mailstream topic); creating it is the deployment's job. One instance per process is enough:
 * it is thread-safe and its clients are created on first use.
 */
public final class SchemaTopicRegistry implements SchemaResolver, AutoCloseable {

    public static final String TOPIC = "mailstream.schemas";

    private static final Logger log = LoggerFactory.getLogger(SchemaTopicRegistry.class);
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(200);

    private final Supplier<Producer<String, String>> producerFactory;
    private final Supplier<Consumer<String, String>> consumerFactory;
    private final Map<Long, Schema> known = new ConcurrentHashMap<>();
    private final Set<Long> registered = ConcurrentHashMap.newKeySet();
    private Producer<String, String> producer; // guarded by this
    private Consumer<String, String> consumer; // guarded by readLock
    private final Object readLock = new Object();

    /**
     * @param kafkaProperties client properties (bootstrap.servers, security, ...); serializers,
     *     acks, idempotence, isolation level and group/transactional ids are set or removed here
     */
    public SchemaTopicRegistry(Map<String, ?> kafkaProperties) {
        this(
                () -> new KafkaProducer<>(producerConfig(kafkaProperties)),
                () -> new KafkaConsumer<>(consumerConfig(kafkaProperties)));
    }

    SchemaTopicRegistry(
            Supplier<Producer<String, String>> producerFactory, Supplier<Consumer<String, String>> consumerFactory) {
        this.producerFactory = producerFactory;
        this.consumerFactory = consumerFactory;
    }

    /** Writes the schema to the topic (once per fingerprint and instance) and waits for acks=all. */
    @Override
    public void register(Schema schema) {
        long fp = SchemaCatalog.fingerprint(schema);
        if (registered.contains(fp)) {
            return;
        }
        synchronized (this) {
            if (registered.contains(fp)) {
                return;
            }
            if (producer == null) {
                producer = producerFactory.get();
            }
            Future<?> ack = producer.send(new ProducerRecord<>(TOPIC, SchemaCatalog.hex(fp), schema.toString()));
            producer.flush();
            try {
                ack.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptException(e);
            } catch (ExecutionException e) {
                throw new KafkaException(
                        "cannot register schema " + schema.getFullName() + " 0x" + SchemaCatalog.hex(fp) + " in "
                                + TOPIC,
                        e.getCause());
            }
            known.put(fp, schema);
            registered.add(fp);
        }
    }

    /**
     * The schema with that fingerprint. A miss reads the topic up to its current end: from the
     * beginning the first time, then on from where the last read stopped.
     */
    @Override
    public Optional<Schema> resolve(long fingerprint) {
        Schema schema = known.get(fingerprint);
        if (schema != null) {
            return Optional.of(schema);
        }
        synchronized (readLock) {
            if (!known.containsKey(fingerprint)) {
                catchUp();
            }
        }
        return Optional.ofNullable(known.get(fingerprint));
    }

    private void catchUp() {
        if (consumer == null) {
            consumer = consumerFactory.get();
        }
        List<TopicPartition> partitions = consumer.partitionsFor(TOPIC).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition()))
                .collect(Collectors.toList());
        if (partitions.isEmpty()) {
            return; // no topic yet, hence no schemas
        }
        if (!consumer.assignment().containsAll(partitions)) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        long deadline = System.nanoTime() + CATCH_UP_TIMEOUT.toNanos();
        while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(
                        "reading " + TOPIC + " to its end offsets " + end + " took over " + CATCH_UP_TIMEOUT);
            }
            for (ConsumerRecord<String, String> record : consumer.poll(POLL)) {
                add(record);
            }
        }
    }

    private void add(ConsumerRecord<String, String> record) {
        if (record.value() == null) {
            return; // a tombstone: nobody deletes schemas, but compaction would keep it harmless
        }
        try {
            Schema schema = new Schema.Parser().parse(record.value());
            long fp = SchemaCatalog.fingerprint(schema);
            if (SchemaCatalog.hex(fp).equals(record.key())) {
                known.putIfAbsent(fp, schema);
            } else {
                log.warn(
                        "ignoring {} record at {}-{}@{}: key {} is not the fingerprint {} of its schema",
                        TOPIC,
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        record.key(),
                        SchemaCatalog.hex(fp));
            }
        } catch (SchemaParseException e) {
            log.warn(
                    "ignoring {} record at {}-{}@{}: not a schema: {}",
                    TOPIC,
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    e.getMessage());
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (producer != null) {
                producer.close();
            }
        }
        synchronized (readLock) {
            if (consumer != null) {
                consumer.close();
            }
        }
    }

    static Map<String, Object> producerConfig(Map<String, ?> base) {
        Map<String, Object> config = new HashMap<>(base);
        config.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG); // registration must not join a caller's transaction
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId(base, "producer"));
        return config;
    }

    static Map<String, Object> consumerConfig(Map<String, ?> base) {
        Map<String, Object> config = new HashMap<>(base);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned partitions, no offsets to commit
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId(base, "consumer"));
        return config;
    }

    private static String clientId(Map<String, ?> base, String role) {
        Object prefix = base.get(ProducerConfig.CLIENT_ID_CONFIG);
        return (prefix == null ? "mailstream" : prefix) + "-schemas-" + role;
    }
}
