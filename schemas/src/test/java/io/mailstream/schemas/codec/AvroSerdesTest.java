package io.mailstream.schemas.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.schemas.ChangeEvent;
import java.util.Arrays;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AvroSerdesTest {

    static Object[] payloads() {
        return Samples.payloads().toArray();
    }

    @ParameterizedTest
    @MethodSource("payloads")
    void everyChangeEventPayloadRoundTrips(Object payload) {
        ChangeEvent event = Samples.changeEvent(payload);
        assertThat(roundTrip(AvroSerdes.changeEvent(), event)).isEqualTo(event);
    }

    @Test
    void everyOtherTopLevelTypeRoundTrips() {
        assertThat(roundTrip(AvroSerdes.controlEvent(), Samples.controlEvent())).isEqualTo(Samples.controlEvent());
        assertThat(roundTrip(AvroSerdes.stateRecord(), Samples.stateRecord())).isEqualTo(Samples.stateRecord());
        assertThat(roundTrip(AvroSerdes.tierProgress(), Samples.tierProgress())).isEqualTo(Samples.tierProgress());
        assertThat(roundTrip(AvroSerdes.deadLetter(), Samples.deadLetter())).isEqualTo(Samples.deadLetter());
    }

    @Test
    void bytesAreSingleObjectEncodedWithTheCurrentFingerprint() {
        byte[] bytes = AvroSerdes.controlEvent().serializer().serialize("t", Samples.controlEvent());
        assertThat(Arrays.copyOf(bytes, 2)).containsExactly(0xC3, 0x01);
        assertThat(AvroCodec.fingerprintOf(bytes))
                .isEqualTo(SchemaCatalog.fingerprint(Samples.controlEvent().getSchema()));
        // Avro's own single-object encoder writes the same bytes: other Avro tooling can read ours.
        assertThat(bytes).isEqualTo(toArray(Samples.controlEvent()));
    }

    @Test
    void nullIsATombstoneBothWays() {
        Serde<ChangeEvent> serde = AvroSerdes.changeEvent();
        assertThat(serde.serializer().serialize("t", null)).isNull();
        assertThat(serde.deserializer().deserialize("t", null)).isNull();
    }

    @Test
    void serializerRegistersItsSchemaBeforeTheFirstRecord() {
        SchemaResolver registry = SchemaResolver.inMemory();
        long fp = SchemaCatalog.fingerprint(ChangeEvent.getClassSchema());
        assertThat(registry.resolve(fp)).isEmpty();
        AvroSerdes.changeEvent(registry)
                .serializer()
                .serialize("t", Samples.changeEvent(Samples.payloads().get(0)));
        assertThat(registry.resolve(fp)).contains(ChangeEvent.getClassSchema());
    }

    private static byte[] toArray(io.mailstream.schemas.ControlEvent e) {
        try {
            var buffer = e.toByteBuffer();
            byte[] out = new byte[buffer.remaining()];
            buffer.get(out);
            return out;
        } catch (java.io.IOException ex) {
            throw new AssertionError(ex);
        }
    }

    private static <T extends SpecificRecord> T roundTrip(Serde<T> serde, T record) {
        byte[] bytes = serde.serializer().serialize("topic", record);
        return serde.deserializer().deserialize("topic", bytes);
    }
}
