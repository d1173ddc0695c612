package io.mailstream.schemas.codec;

import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** One object as Serde, Serializer and Deserializer over an {@link AvroCodec}; null stays null (tombstones). */
final class CodecSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {

    private final AvroCodec<T> codec;

    CodecSerde(AvroCodec<T> codec) {
        this.codec = codec;
    }

    @Override
    public byte[] serialize(String topic, T data) {
        return data == null ? null : codec.encode(data);
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return data == null ? null : codec.decode(data);
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }

    // Configuration comes from the factory (AvroSerdes), not from client properties.
    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {}

    // Kafka closes serializers with their client; the resolver outlives any one client, so nothing to do.
    @Override
    public void close() {}
}
