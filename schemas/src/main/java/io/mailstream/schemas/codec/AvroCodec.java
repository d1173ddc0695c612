package io.mailstream.schemas.codec;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.TierProgress;
import io.mailstream.schemas.codec.EventDecodingException.Problem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.ClassSecurityValidator;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Avro single-object encoding of one top-level record type: {@code C3 01}, the writer schema's
 * 8-byte little-endian CRC-64-AVRO fingerprint, then the binary body. Decoding reads any writer
 * schema the {@link SchemaCatalog} or the {@link SchemaResolver} knows into the current class.
 * Thread-safe.
 */
public final class AvroCodec<T extends SpecificRecord> {

    static {
        // Avro >= 1.12.1 refuses to instantiate classes outside an allow-list when decoding or deep
        // copying (newBuilder(other)); trust our generated classes here so that no
        // -Dorg.apache.avro.SERIALIZABLE_PACKAGES is needed.
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(
                ClassSecurityValidator.getGlobal(), c -> c.getName().startsWith("io.mailstream.schemas.")));
    }

    /**
     * Makes sure the generated classes are trusted (this class's initialisation does it, once):
     * for code that copies records with {@code newBuilder(other)} before any codec exists.
     */
    public static void trustGeneratedClasses() {
        // nothing more: calling this initialises the class
    }

    static final int HEADER_LENGTH = 10;
    private static final byte MARKER_0 = (byte) 0xC3;
    private static final byte MARKER_1 = (byte) 0x01;

    private final Schema schema;
    private final SpecificData model;
    private final byte[] header;
    private final SpecificDatumWriter<T> writer;
    private final SchemaResolver resolver;
    private final Map<Long, DatumReader<T>> readers = new ConcurrentHashMap<>();
    private volatile boolean registered;

    private AvroCodec(Class<T> type, SchemaResolver resolver) {
        this.model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.resolver = resolver;
        this.writer = new SpecificDatumWriter<>(schema, model);
        this.header = new byte[HEADER_LENGTH];
        header[0] = MARKER_0;
        header[1] = MARKER_1;
        long fp = SchemaCatalog.fingerprint(schema);
        for (int i = 0; i < 8; i++) {
            header[2 + i] = (byte) (fp >>> (8 * i));
        }
    }

    public static <T extends SpecificRecord> AvroCodec<T> of(Class<T> type, SchemaResolver resolver) {
        return new AvroCodec<>(type, resolver);
    }

    public static AvroCodec<ChangeEvent> changeEvent(SchemaResolver resolver) {
        return of(ChangeEvent.class, resolver);
    }

    public static AvroCodec<ControlEvent> controlEvent(SchemaResolver resolver) {
        return of(ControlEvent.class, resolver);
    }

    public static AvroCodec<StateRecord> stateRecord(SchemaResolver resolver) {
        return of(StateRecord.class, resolver);
    }

    public static AvroCodec<TierProgress> tierProgress(SchemaResolver resolver) {
        return of(TierProgress.class, resolver);
    }

    public static AvroCodec<DeadLetter> deadLetter(SchemaResolver resolver) {
        return of(DeadLetter.class, resolver);
    }

    /** The current (writer) schema of this type. */
    public Schema schema() {
        return schema;
    }

    /** Encodes {@code record}; the first call registers the writer schema with the resolver. */
    public byte[] encode(T record) {
        if (!registered) {
            resolver.register(schema);
            registered = true;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.writeBytes(header);
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        try {
            writer.write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen writing to memory
        } catch (RuntimeException e) {
            // Avro reports a missing required field as a NullPointerException naming the field.
            throw new SerializationException("cannot encode " + schema.getName() + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    /** Decodes single-object-encoded bytes written with any known version of this type. */
    public T decode(byte[] bytes) {
        long fp = fingerprintOf(bytes);
        DatumReader<T> reader = readers.computeIfAbsent(fp, this::readerFor);
        BinaryDecoder decoder =
                DecoderFactory.get().binaryDecoder(bytes, HEADER_LENGTH, bytes.length - HEADER_LENGTH, null);
        T record;
        try {
            record = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                throw new IOException("trailing bytes after the record");
            }
        } catch (IOException | RuntimeException e) {
            throw new EventDecodingException(
                    Problem.CORRUPT_BODY,
                    fp,
                    "corrupt " + schema.getName() + " body (" + bytes.length + " bytes, writer schema 0x"
                            + SchemaCatalog.hex(fp) + "): " + e,
                    e);
        }
        return record;
    }

    /** The writer-schema fingerprint in a single-object-encoded header. */
    static long fingerprintOf(byte[] bytes) {
        if (bytes == null || bytes.length < HEADER_LENGTH || bytes[0] != MARKER_0 || bytes[1] != MARKER_1) {
            throw new EventDecodingException(
                    Problem.NOT_SINGLE_OBJECT_ENCODED,
                    null,
                    "not Avro single-object encoding: expected C3 01 + 8-byte fingerprint, got " + describe(bytes),
                    null);
        }
        long fp = 0;
        for (int i = 0; i < 8; i++) {
            fp |= (bytes[2 + i] & 0xffL) << (8 * i);
        }
        return fp;
    }

    private DatumReader<T> readerFor(long fp) {
        Schema writerSchema = SchemaCatalog.shipped()
                .find(fp)
                .or(() -> resolver.resolve(fp))
                .orElseThrow(() -> new EventDecodingException(
                        Problem.UNKNOWN_SCHEMA,
                        fp,
                        "unknown schema fingerprint 0x" + SchemaCatalog.hex(fp)
                                + " (not shipped in this jar and not in " + SchemaTopicRegistry.TOPIC + ")",
                        null));
        if (!writerSchema.getFullName().equals(schema.getFullName())
                && !schema.getAliases().contains(writerSchema.getFullName())) {
            throw new EventDecodingException(
                    Problem.WRONG_TYPE,
                    fp,
                    "schema 0x" + SchemaCatalog.hex(fp) + " is " + writerSchema.getFullName() + ", expected "
                            + schema.getFullName(),
                    null);
        }
        SchemaPairCompatibility compat = SchemaCompatibility.checkReaderWriterCompatibility(schema, writerSchema);
        if (compat.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            throw new EventDecodingException(
                    Problem.INCOMPATIBLE_SCHEMA,
                    fp,
                    "writer schema 0x"
                            + SchemaCatalog.hex(fp) + " cannot be read as the current " + schema.getName() + ": "
                            + compat.getResult().getIncompatibilities(),
                    null);
        }
        return new SpecificDatumReader<>(writerSchema, schema, model);
    }

    private static String describe(byte[] bytes) {
        if (bytes == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(bytes.length + " bytes");
        int n = Math.min(bytes.length, HEADER_LENGTH);
        if (n > 0) {
            sb.append(" starting");
        }
        for (int i = 0; i < n; i++) {
            sb.append(String.format(" %02X", bytes[i]));
        }
        return sb.toString();
    }
}
