package io.mailstream.schemas.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.PrimaryAssignment;
import io.mailstream.schemas.codec.EventDecodingException.Problem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

class AvroCodecTest {

    /** A ControlEvent as an older writer might have had it: no actor, no reason (both have defaults now). */
    private static final Schema OLD_CONTROL_EVENT = oldControlEvent();

    @Test
    void decodesAnOlderWriterSchemaFoundThroughTheResolver() {
        SchemaResolver registry = SchemaResolver.inMemory();
        registry.register(OLD_CONTROL_EVENT);
        byte[] old = encodeOld("c-9", 77L);

        ControlEvent event = AvroCodec.controlEvent(registry).decode(old);

        assertThat(event.getEventId()).isEqualTo("c-9");
        assertThat(event.getTime()).isEqualTo(77L);
        assertThat(event.getActor()).isEmpty(); // the current schema's default
        assertThat(event.getPayload()).isInstanceOf(PrimaryAssignment.class);
        assertThat(((PrimaryAssignment) event.getPayload()).getServerId()).isEqualTo("imap2");
    }

    @Test
    void unknownFingerprintIsReportedWithItsHex() {
        byte[] old = encodeOld("c-9", 77L);
        long fp = SchemaCatalog.fingerprint(OLD_CONTROL_EVENT);

        assertThatThrownBy(() -> AvroCodec.controlEvent(SchemaResolver.none()).decode(old))
                .isInstanceOfSatisfying(EventDecodingException.class, e -> {
                    assertThat(e.problem()).isEqualTo(Problem.UNKNOWN_SCHEMA);
                    assertThat(e.fingerprint()).hasValue(fp);
                })
                .hasMessage("unknown schema fingerprint 0x" + SchemaCatalog.hex(fp)
                        + " (not shipped in this jar and not in mailstream.schemas)");
    }

    @Test
    void bytesWithoutTheSingleObjectMarkerAreRejected() {
        AvroCodec<ControlEvent> codec = AvroCodec.controlEvent(SchemaResolver.none());
        for (byte[] garbage : List.of(
                new byte[0], "{\"json\": true}".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xC3, 0x01, 1, 2
                })) {
            assertThatThrownBy(() -> codec.decode(garbage))
                    .isInstanceOfSatisfying(
                            EventDecodingException.class,
                            e -> assertThat(e.problem()).isEqualTo(Problem.NOT_SINGLE_OBJECT_ENCODED))
                    .hasMessageStartingWith("not Avro single-object encoding: expected C3 01");
        }
    }

    @Test
    void truncatedOrOverlongBodiesAreCorrupt() {
        AvroCodec<ControlEvent> codec = AvroCodec.controlEvent(SchemaResolver.none());
        byte[] good = codec.encode(Samples.controlEvent());
        byte[] truncated = Arrays.copyOf(good, good.length - 3);
        byte[] trailing = Arrays.copyOf(good, good.length + 1);

        for (byte[] bad : List.of(truncated, trailing)) {
            assertThatThrownBy(() -> codec.decode(bad))
                    .isInstanceOfSatisfying(
                            EventDecodingException.class,
                            e -> assertThat(e.problem()).isEqualTo(Problem.CORRUPT_BODY))
                    .hasMessageContaining("corrupt ControlEvent body");
        }
    }

    @Test
    void anotherTopLevelTypeIsAWrongTypeNotAGarbledDecode() {
        byte[] progress = AvroCodec.tierProgress(SchemaResolver.none()).encode(Samples.tierProgress());

        assertThatThrownBy(() -> AvroCodec.controlEvent(SchemaResolver.none()).decode(progress))
                .isInstanceOfSatisfying(
                        EventDecodingException.class,
                        e -> assertThat(e.problem()).isEqualTo(Problem.WRONG_TYPE))
                .hasMessageContaining(
                        "is io.mailstream.schemas.TierProgress, expected io.mailstream.schemas.ControlEvent");
    }

    @Test
    void anIncompatibleWriterSchemaIsNamedAsSuch() {
        Schema timeAsString = new Schema.Parser()
                .parse(ControlEvent.getClassSchema()
                        .toString()
                        .replace("{\"name\":\"time\",\"type\":\"long\"", "{\"name\":\"time\",\"type\":\"string\""));
        assertThat(timeAsString.getField("time").schema().getType()).isEqualTo(Schema.Type.STRING);
        SchemaResolver registry = SchemaResolver.inMemory();
        registry.register(timeAsString);
        byte[] header = header(timeAsString);

        assertThatThrownBy(() -> AvroCodec.controlEvent(registry).decode(header))
                .isInstanceOfSatisfying(
                        EventDecodingException.class,
                        e -> assertThat(e.problem()).isEqualTo(Problem.INCOMPATIBLE_SCHEMA))
                .hasMessageContaining("cannot be read as the current ControlEvent");
    }

    @Test
    void aRecordMissingARequiredFieldFailsToEncodeNamingIt() {
        ControlEvent incomplete = Samples.controlEvent();
        incomplete.setEventId(null);

        assertThatThrownBy(() -> AvroCodec.controlEvent(SchemaResolver.none()).encode(incomplete))
                .isInstanceOf(org.apache.kafka.common.errors.SerializationException.class)
                .hasMessageContaining("eventId");
    }

    private static Schema oldControlEvent() {
        Schema current = ControlEvent.getClassSchema();
        List<Schema.Field> fields = current.getFields().stream()
                .filter(f -> !f.name().equals("actor") && !f.name().equals("reason"))
                .map(f -> new Schema.Field(f, f.schema()))
                .toList();
        return Schema.createRecord(current.getName(), null, current.getNamespace(), false, fields);
    }

    private static byte[] encodeOld(String eventId, long time) {
        Schema assignmentSchema = PrimaryAssignment.getClassSchema();
        GenericRecord assignment = new GenericData.Record(assignmentSchema);
        assignment.put("scope", "*");
        assignment.put("serverId", "imap2");
        assignment.put("site", "dc2");
        assignment.put("epoch", 4L);
        assignment.put("tier", "primary");
        assignment.put("fencePending", false);
        GenericRecord event = new GenericData.Record(OLD_CONTROL_EVENT);
        event.put("eventId", eventId);
        event.put("time", time);
        event.put("payload", assignment);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(header(OLD_CONTROL_EVENT));
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(OLD_CONTROL_EVENT).write(event, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] header(Schema writer) {
        return ByteBuffer.allocate(10)
                .order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) 0xC3)
                .put((byte) 0x01)
                .putLong(SchemaCatalog.fingerprint(writer))
                .array();
    }
}
