package io.mailstream.schemas.codec;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.TierProgress;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Every top-level schema this jar can decode: the current one of each type and each released
 * version kept under {@code io/mailstream/schemas/released/<Name>/v<N>.avsc}, so that data written
 * by any released build decodes without the schema topic.
 */
public final class SchemaCatalog {

    static final String RELEASED_ROOT = "/io/mailstream/schemas/released/";

    private static final List<Schema> CURRENT = List.of(
            ChangeEvent.getClassSchema(),
            ControlEvent.getClassSchema(),
            StateRecord.getClassSchema(),
            TierProgress.getClassSchema(),
            DeadLetter.getClassSchema());

    private static final SchemaCatalog SHIPPED = new SchemaCatalog();

    /** Released versions per simple name, v1 first. */
    private final Map<String, List<Schema>> released = new LinkedHashMap<>();

    private final Map<Long, Schema> byFingerprint = new HashMap<>();

    private SchemaCatalog() {
        for (Schema current : CURRENT) {
            List<Schema> versions = loadReleased(current.getFullName(), current.getName());
            released.put(current.getName(), versions);
            versions.forEach(s -> byFingerprint.put(fingerprint(s), s));
            byFingerprint.put(fingerprint(current), current);
        }
    }

    public static SchemaCatalog shipped() {
        return SHIPPED;
    }

    /** The schema with that CRC-64-AVRO fingerprint, if shipped in this jar. */
    public Optional<Schema> find(long fingerprint) {
        return Optional.ofNullable(byFingerprint.get(fingerprint));
    }

    /** The current schema of each top-level type (ChangeEvent, ControlEvent, ...). */
    public List<Schema> current() {
        return CURRENT;
    }

    /** The released versions of a top-level type by simple name, oldest first; empty if none. */
    public List<Schema> released(String name) {
        return released.getOrDefault(name, List.of());
    }

    /** The CRC-64-AVRO fingerprint that single-object encoding puts in the header. */
    public static long fingerprint(Schema schema) {
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    /** The fingerprint as 16 lower-case hex digits: the key in the schema topic and in messages. */
    public static String hex(long fingerprint) {
        return String.format("%016x", fingerprint);
    }

    /** Versions are numbered without gaps, so probing v1, v2, ... finds all (resources cannot be listed in a jar). */
    private static List<Schema> loadReleased(String fullName, String name) {
        List<Schema> versions = new ArrayList<>();
        for (int v = 1; ; v++) {
            String path = RELEASED_ROOT + name + "/v" + v + ".avsc";
            try (InputStream in = SchemaCatalog.class.getResourceAsStream(path)) {
                if (in == null) {
                    return List.copyOf(versions);
                }
                Schema schema = new Schema.Parser().parse(in);
                if (!schema.getFullName().equals(fullName)) {
                    throw new IllegalStateException(path + " holds " + schema.getFullName() + ", not " + fullName);
                }
                versions.add(schema);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read released schema " + path, e);
            }
        }
    }
}
