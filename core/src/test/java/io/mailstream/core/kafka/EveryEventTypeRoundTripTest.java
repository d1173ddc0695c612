package io.mailstream.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.control.ControlTopic;
import io.mailstream.schemas.AnnotationDelete;
import io.mailstream.schemas.AnnotationUpsert;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.PrimaryAssignment;
import io.mailstream.schemas.QuotaDelete;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.SieveActivate;
import io.mailstream.schemas.SieveDeactivate;
import io.mailstream.schemas.SieveDelete;
import io.mailstream.schemas.SieveUpsert;
import io.mailstream.schemas.Subscribe;
import io.mailstream.schemas.Unsubscribe;
import io.mailstream.schemas.UserDelete;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proof that the topics alone are enough: every event type is produced with the real
 * serde (which registers its writer schema in mailstream.schemas), the broker is restarted on the
 * same folder, and a reader with no generated classes and no shipped catalog decodes every
 * event using only schemas it reads back from mailstream.schemas.
 */
class EveryEventTypeRoundTripTest {
    @TempDir
    Path dir;

    private long sequence;

    @Test
    void everyEventTypeSurvivesABrokerRestartAndDecodesFromTheSchemaTopicAlone() throws Exception {
        List<Object> payloads = everyPayload();
        MailstreamConfig config = MailstreamConfig.of(Map.of());
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0)) {
            TopicAdmin.ensureTopics(config, kafka.bootstrapServers());
            try (var registry = new SchemaTopicRegistry(Map.of("bootstrap.servers", kafka.bootstrapServers()));
                    var producer = new KafkaProducer<>(
                            KafkaClients.producerProps(kafka.bootstrapServers(), "roundtrip", 1 << 20),
                            new StringSerializer(),
                            AvroSerdes.changeEvent(registry).serializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                for (Object payload : payloads) {
                    producer.send(new ProducerRecord<>(Topics.CHANGES, "alice", event(payload)));
                }
                producer.commitTransaction();
                ControlTopic control = new ControlTopic(kafka.bootstrapServers(), registry);
                assertThat(control.promoteInitial("primary", "dc1", "test", "bootstrap")
                                .getEpoch())
                        .isEqualTo(1);
                assertThat(control.promote("dc2", 1, io.mailstream.schemas.TierRole.DIVERGED, "dc2", "test", "failover")
                                .getEpoch())
                        .isEqualTo(2);
            }
        }

        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0)) {
            try (var registry = new SchemaTopicRegistry(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                List<GenericRecord> decoded = new ArrayList<>();
                for (byte[] value : readAll(kafka.bootstrapServers(), Topics.CHANGES)) {
                    decoded.add(decodeWithTopicSchemaOnly(value, registry));
                }
                Set<String> types = new TreeSet<>();
                for (GenericRecord r : decoded) {
                    types.add(((GenericRecord) r.get("payload")).getSchema().getName());
                }
                Set<String> expected = new TreeSet<>();
                payloads.forEach(p -> expected.add(p.getClass().getSimpleName()));
                assertThat(types).isEqualTo(expected).hasSize(18);
                GenericRecord content = decoded.stream()
                        .filter(r -> ((GenericRecord) r.get("payload"))
                                .getSchema()
                                .getName()
                                .equals("MessageContent"))
                        .findFirst()
                        .orElseThrow();
                ByteBuffer body = (ByteBuffer) ((GenericRecord) content.get("payload")).get("data");
                assertThat(StandardCharsets.US_ASCII.decode(body).toString()).isEqualTo("Subject: hi\r\n\r\nbody\r\n");
                assertThat(((GenericRecord) decoded.get(0).get("envelope"))
                                .get("partitionKey")
                                .toString())
                        .isEqualTo("alice");

                PrimaryAssignment current = new ControlTopic(kafka.bootstrapServers(), registry)
                        .primary()
                        .orElseThrow();
                assertThat(current.getTier()).isEqualTo("dc2");
                assertThat(current.getEpoch()).isEqualTo(2);
            }
        }
    }

    /** Single-object encoding read by hand: the fingerprint comes from the bytes, the schema from the topic. */
    private static GenericRecord decodeWithTopicSchemaOnly(byte[] value, SchemaTopicRegistry registry)
            throws Exception {
        assertThat(value[0]).isEqualTo((byte) 0xC3);
        assertThat(value[1]).isEqualTo((byte) 0x01);
        long fingerprint =
                ByteBuffer.wrap(value, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Schema writer = registry.resolve(fingerprint)
                .orElseThrow(() -> new AssertionError("fingerprint not in mailstream.schemas"));
        return new GenericDatumReader<GenericRecord>(writer)
                .read(null, DecoderFactory.get().binaryDecoder(value, 10, value.length - 10, null));
    }

    private static List<byte[]> readAll(String bootstrap, String topic) {
        List<byte[]> values = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrap, null), new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicReader.readToEnd(consumer, topic, Duration.ofSeconds(30), r -> values.add(r.value()));
        }
        return values;
    }

    private ChangeEvent event(Object payload) {
        sequence++;
        return ChangeEvent.newBuilder()
                .setEnvelope(Envelope.newBuilder()
                        .setEventId("ev-" + sequence)
                        .setSourceServerId("p1")
                        .setSite("dc1")
                        .setTier("primary")
                        .setEpoch(1)
                        .setPartitionKey("alice")
                        .setMailboxUniqueId("u1")
                        .setCaptureTime(1_700_000_000_000L + sequence)
                        .setSequence(sequence)
                        .build())
                .setPayload(payload)
                .build();
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static List<Object> everyPayload() {
        MessageRecord record = MessageRecord.newBuilder()
                .setUid(1)
                .setModseq(4)
                .setLastUpdated(1_700_000_000L)
                .setFlags(List.of("\\Seen", "$Label1"))
                .setInternalDate(1_699_999_999L)
                .setSize(23)
                .setGuid("a".repeat(40))
                .build();
        return List.of(
                MessageContent.newBuilder()
                        .setGuid("a".repeat(40))
                        .setSize(23)
                        .setData(bytes("Subject: hi\r\n\r\nbody\r\n"))
                        .build(),
                RecordsUpsert.newBuilder()
                        .setUniqueId("u1")
                        .setMailboxName("user.alice")
                        .setRecords(List.of(record))
                        .build(),
                MailboxUpsert.newBuilder()
                        .setUniqueId("u1")
                        .setName("user.alice")
                        .setUidValidity(1_699_990_000L)
                        .setLastUid(1)
                        .setHighestModseq(4)
                        .setPartition("default")
                        .setAcl("alice\tlrswipkxtecdan\t")
                        .setSyncCrc(3_021_000_000L)
                        .setSyncCrcAnnot(12_345_678L)
                        .build(),
                MailboxRename.newBuilder()
                        .setUniqueId("u1")
                        .setOldName("user.alice.A")
                        .setNewName("user.alice.B")
                        .setPartition("default")
                        .build(),
                Expunge.newBuilder()
                        .setUniqueId("u1")
                        .setMailboxName("user.alice")
                        .setUids(List.of(1L))
                        .build(),
                MailboxDelete.newBuilder()
                        .setUniqueId("u2")
                        .setName("user.alice.Tmp")
                        .build(),
                SeenUpsert.newBuilder()
                        .setUserId("bob")
                        .setUniqueId("u1")
                        .setLastRead(1)
                        .setLastUid(1)
                        .setLastChange(1)
                        .setSeenUids("1")
                        .build(),
                Subscribe.newBuilder()
                        .setUserId("alice")
                        .setMailboxName("user.alice.B")
                        .build(),
                Unsubscribe.newBuilder()
                        .setUserId("alice")
                        .setMailboxName("user.alice.B")
                        .build(),
                SieveUpsert.newBuilder()
                        .setUserId("alice")
                        .setFilename("main.script")
                        .setLastUpdate(1)
                        .setContent(bytes("keep;"))
                        .build(),
                SieveActivate.newBuilder()
                        .setUserId("alice")
                        .setFilename("main.bc")
                        .build(),
                SieveDeactivate.newBuilder().setUserId("alice").build(),
                SieveDelete.newBuilder()
                        .setUserId("alice")
                        .setFilename("main.script")
                        .build(),
                QuotaUpsert.newBuilder()
                        .setRoot("user.alice")
                        .setLimits(Map.of("STORAGE", 100_000L))
                        .setModseq(3)
                        .build(),
                QuotaDelete.newBuilder().setRoot("user.alice").build(),
                AnnotationUpsert.newBuilder()
                        .setMailboxName("")
                        .setEntry("/comment")
                        .setUserId("")
                        .setValue(bytes("server note"))
                        .build(),
                AnnotationDelete.newBuilder()
                        .setMailboxName("")
                        .setEntry("/comment")
                        .setUserId("")
                        .build(),
                UserDelete.newBuilder().setUserId("carol").build());
    }
}
