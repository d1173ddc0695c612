package io.mailstream.schemas.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.TierProgress;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class SchemaTopicRegistryTest {

    private static final TopicPartition PARTITION = new TopicPartition(SchemaTopicRegistry.TOPIC, 0);
    private static final Schema CONTROL = ControlEvent.getClassSchema();
    private static final Schema PROGRESS = TierProgress.getClassSchema();

    private final MockProducer<String, String> producer =
            new MockProducer<>(true, null, new StringSerializer(), new StringSerializer());
    private final MockConsumer<String, String> consumer = new MockConsumer<>("earliest");

    @Test
    void registerWritesFingerprintKeyAndSchemaJsonOnce() {
        SchemaTopicRegistry registry = new SchemaTopicRegistry(() -> producer, () -> consumer);

        registry.register(CONTROL);
        registry.register(CONTROL);

        assertThat(producer.history()).singleElement().satisfies(r -> {
            assertThat(r.topic()).isEqualTo("mailstream.schemas");
            assertThat(r.key()).isEqualTo(SchemaCatalog.hex(SchemaCatalog.fingerprint(CONTROL)));
            assertThat(new Schema.Parser().parse(r.value())).isEqualTo(CONTROL);
        });
        assertThat(producer.flushed()).isTrue();
    }

    @Test
    void aSerializerRegistersThroughTheRegistryBeforeItsFirstRecord() {
        SchemaTopicRegistry registry = new SchemaTopicRegistry(() -> producer, () -> consumer);

        AvroSerdes.controlEvent(registry).serializer().serialize("mailstream.control", Samples.controlEvent());

        assertThat(producer.history())
                .extracting(ProducerRecord::key)
                .containsExactly(SchemaCatalog.hex(SchemaCatalog.fingerprint(CONTROL)));
    }

    @Test
    void aFailedSendIsNotCachedAsRegistered() throws Exception {
        // MockProducer.flush() completes pending sends successfully; a real flush only waits for the outcome.
        MockProducer<String, String> manual =
                new MockProducer<>(false, null, new StringSerializer(), new StringSerializer()) {
                    @Override
                    public synchronized void flush() {}
                };
        SchemaTopicRegistry registry = new SchemaTopicRegistry(() -> manual, () -> consumer);

        Thread broker = answerNextSend(() -> manual.errorNext(new KafkaException("not enough replicas")));
        assertThatThrownBy(() -> registry.register(CONTROL))
                .isInstanceOf(KafkaException.class)
                .hasMessageContaining("cannot register schema");
        broker.join();

        broker = answerNextSend(manual::completeNext);
        registry.register(CONTROL);
        broker.join();
        assertThat(manual.history()).hasSize(2);
    }

    /** Plays the broker for a non-auto-completing MockProducer: answers the next send once it is pending. */
    private static Thread answerNextSend(java.util.function.BooleanSupplier answer) {
        Thread broker = new Thread(() -> {
            while (!answer.getAsBoolean()) {
                Thread.onSpinWait();
            }
        });
        broker.start();
        return broker;
    }

    @Test
    void resolveReadsTheTopicFromTheBeginningToItsEnd() {
        String progressKey = SchemaCatalog.hex(SchemaCatalog.fingerprint(PROGRESS));
        topicHolds(
                record(0, "ffffffffffffffff", CONTROL.toString()), // key is not the schema's fingerprint
                record(1, "0000000000000001", "not json"),
                record(2, progressKey, PROGRESS.toString()));
        SchemaTopicRegistry registry = new SchemaTopicRegistry(() -> producer, () -> consumer);

        assertThat(registry.resolve(SchemaCatalog.fingerprint(PROGRESS))).contains(PROGRESS);
        assertThat(registry.resolve(SchemaCatalog.fingerprint(CONTROL))).isEmpty();
        assertThat(consumer.position(PARTITION)).isEqualTo(3);
    }

    @Test
    void aMissingTopicResolvesNothing() {
        consumer.updatePartitions(SchemaTopicRegistry.TOPIC, List.of());
        SchemaTopicRegistry registry = new SchemaTopicRegistry(() -> producer, () -> consumer);

        assertThat(registry.resolve(42L)).isEmpty();
    }

    @Test
    void clientConfigsForceDurabilityAndDropCallerIdentities() {
        Map<String, Object> base = Map.of(
                "bootstrap.servers",
                "127.0.0.1:9092",
                "transactional.id",
                "capture-1",
                "group.id",
                "sink",
                "acks",
                "1",
                "client.id",
                "capture");

        assertThat(SchemaTopicRegistry.producerConfig(base))
                .containsEntry("bootstrap.servers", "127.0.0.1:9092")
                .containsEntry("acks", "all")
                .containsEntry("enable.idempotence", true)
                .containsEntry("client.id", "capture-schemas-producer")
                .doesNotContainKey("transactional.id");
        assertThat(SchemaTopicRegistry.consumerConfig(base))
                .containsEntry("isolation.level", "read_committed")
                .containsEntry("enable.auto.commit", false)
                .doesNotContainKey("group.id");
    }

    private void topicHolds(ConsumerRecord<String, String>... records) {
        consumer.updatePartitions(
                SchemaTopicRegistry.TOPIC,
                List.of(new PartitionInfo(SchemaTopicRegistry.TOPIC, 0, Node.noNode(), new Node[0], new Node[0])));
        consumer.updateBeginningOffsets(Map.of(PARTITION, 0L));
        consumer.updateEndOffsets(Map.of(PARTITION, (long) records.length));
        // MockConsumer only accepts records for assigned partitions: add them once the registry polls.
        consumer.schedulePollTask(() -> List.of(records).forEach(consumer::addRecord));
    }

    private static ConsumerRecord<String, String> record(long offset, String key, String value) {
        return new ConsumerRecord<>(SchemaTopicRegistry.TOPIC, 0, offset, key, value);
    }
}
