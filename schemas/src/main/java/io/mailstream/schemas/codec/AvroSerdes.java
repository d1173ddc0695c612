package io.mailstream.schemas.codec;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.TierProgress;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * Kafka serdes for the top-level mailstream records. Pass a {@link SchemaTopicRegistry} in
 * services (writers register their schema in {@code mailstream.schemas} before first use, readers
 * resolve schemas newer than this jar); the no-argument forms use {@link SchemaResolver#none()}
 * and suit tests such as TopologyTestDriver, where only schemas shipped in the jar occur.
 * {@code serializer()} and {@code deserializer()} of a serde share its codec.
 */
public final class AvroSerdes {

    private AvroSerdes() {}

    public static <T extends SpecificRecord> Serde<T> serde(Class<T> type, SchemaResolver resolver) {
        return new CodecSerde<>(AvroCodec.of(type, resolver));
    }

    public static Serde<ChangeEvent> changeEvent(SchemaResolver resolver) {
        return serde(ChangeEvent.class, resolver);
    }

    public static Serde<ControlEvent> controlEvent(SchemaResolver resolver) {
        return serde(ControlEvent.class, resolver);
    }

    public static Serde<StateRecord> stateRecord(SchemaResolver resolver) {
        return serde(StateRecord.class, resolver);
    }

    public static Serde<TierProgress> tierProgress(SchemaResolver resolver) {
        return serde(TierProgress.class, resolver);
    }

    public static Serde<DeadLetter> deadLetter(SchemaResolver resolver) {
        return serde(DeadLetter.class, resolver);
    }

    public static Serde<ChangeEvent> changeEvent() {
        return changeEvent(SchemaResolver.none());
    }

    public static Serde<ControlEvent> controlEvent() {
        return controlEvent(SchemaResolver.none());
    }

    public static Serde<StateRecord> stateRecord() {
        return stateRecord(SchemaResolver.none());
    }

    public static Serde<TierProgress> tierProgress() {
        return tierProgress(SchemaResolver.none());
    }

    public static Serde<DeadLetter> deadLetter() {
        return deadLetter(SchemaResolver.none());
    }
}
