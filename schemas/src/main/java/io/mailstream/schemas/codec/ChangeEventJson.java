package io.mailstream.schemas.codec;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.content.MessageChunker;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;

/**
 * One JSON line per change event for {@code mailstream events}:
 * {@code {"type":"<payload record>","envelope":{...},"payload":{...}}}. Unions show their value
 * only. Message bodies and sieve scripts can be megabytes, so bytes show as
 * {@code {"bytes":<length>,"sha1":"<hex>"}}; annotation values, usually short text, show as a
 * string when valid UTF-8, else as {@code {"base64":"..."}}.
 */
public final class ChangeEventJson {

    /** Bytes fields (record full name + "." + field) that are small values worth showing. */
    private static final Set<String> SHOWN_BYTES =
            Set.of("io.mailstream.schemas.Annotation.value", "io.mailstream.schemas.AnnotationUpsert.value");

    private ChangeEventJson() {}

    public static String render(ChangeEvent event) {
        StringBuilder out = new StringBuilder(256);
        IndexedRecord payload = (IndexedRecord) event.getPayload();
        out.append("{\"type\":");
        string(out, payload.getSchema().getName());
        out.append(",\"envelope\":");
        value(out, event.getEnvelope().getSchema(), event.getEnvelope(), false);
        out.append(",\"payload\":");
        value(out, payload.getSchema(), payload, false);
        return out.append('}').toString();
    }

    private static void value(StringBuilder out, Schema schema, Object value, boolean showBytes) {
        switch (schema.getType()) {
            case NULL -> out.append("null");
            case BOOLEAN, INT, LONG, FLOAT, DOUBLE -> out.append(value);
            case STRING, ENUM -> string(out, value.toString());
            case BYTES -> bytes(out, (ByteBuffer) value, showBytes);
            case FIXED -> bytes(out, ByteBuffer.wrap(((GenericFixed) value).bytes()), false);
            case UNION ->
                value(out, schema.getTypes().get(SpecificData.get().resolveUnion(schema, value)), value, showBytes);
            case ARRAY -> {
                out.append('[');
                String sep = "";
                for (Object item : (List<?>) value) {
                    out.append(sep);
                    value(out, schema.getElementType(), item, false);
                    sep = ",";
                }
                out.append(']');
            }
            case MAP -> {
                out.append('{');
                String sep = "";
                for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                    out.append(sep);
                    string(out, e.getKey().toString());
                    out.append(':');
                    value(out, schema.getValueType(), e.getValue(), false);
                    sep = ",";
                }
                out.append('}');
            }
            case RECORD -> {
                IndexedRecord record = (IndexedRecord) value;
                out.append('{');
                String sep = "";
                for (Schema.Field field : schema.getFields()) {
                    out.append(sep);
                    string(out, field.name());
                    out.append(':');
                    value(
                            out,
                            field.schema(),
                            record.get(field.pos()),
                            SHOWN_BYTES.contains(schema.getFullName() + "." + field.name()));
                    sep = ",";
                }
                out.append('}');
            }
        }
    }

    private static void bytes(StringBuilder out, ByteBuffer buffer, boolean show) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes); // duplicate: rendering must not consume the record's buffer
        if (show) {
            try {
                string(
                        out,
                        StandardCharsets.UTF_8
                                .newDecoder()
                                .onMalformedInput(CodingErrorAction.REPORT)
                                .onUnmappableCharacter(CodingErrorAction.REPORT)
                                .decode(ByteBuffer.wrap(bytes))
                                .toString());
            } catch (CharacterCodingException e) {
                out.append("{\"base64\":\"")
                        .append(Base64.getEncoder().encodeToString(bytes))
                        .append("\"}");
            }
        } else {
            out.append("{\"bytes\":")
                    .append(bytes.length)
                    .append(",\"sha1\":\"")
                    .append(MessageChunker.sha1Hex(bytes))
                    .append("\"}");
        }
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
