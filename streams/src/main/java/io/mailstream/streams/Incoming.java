package io.mailstream.streams;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * One record of mailstream.changes with where it came from. Kept whole while parked, because a
 * parked event is processed later by a punctuator, where Kafka Streams has no record metadata.
 */
record Incoming(String key, byte[] value, long timestamp, String topic, int partition, long offset) {

    static Incoming of(Record<String, byte[]> record, RecordMetadata source) {
        return new Incoming(
                record.key(), record.value(), record.timestamp(), source.topic(), source.partition(), source.offset());
    }

    byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + (value == null ? 0 : value.length));
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(topic);
            out.writeInt(partition);
            out.writeLong(offset);
            out.writeLong(timestamp);
            out.writeBoolean(key != null);
            if (key != null) out.writeUTF(key);
            out.writeInt(value == null ? -1 : value.length);
            if (value != null) out.write(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen writing to memory
        }
        return bytes.toByteArray();
    }

    static Incoming fromBytes(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            String topic = in.readUTF();
            int partition = in.readInt();
            long offset = in.readLong();
            long timestamp = in.readLong();
            String key = in.readBoolean() ? in.readUTF() : null;
            int length = in.readInt();
            byte[] value = length < 0 ? null : in.readNBytes(length);
            return new Incoming(key, value, timestamp, topic, partition, offset);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt parked event", e);
        }
    }
}
