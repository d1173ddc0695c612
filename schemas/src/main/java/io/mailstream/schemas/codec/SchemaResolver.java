package io.mailstream.schemas.codec;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * Where writer schemas live beyond the jar (the {@code mailstream.schemas} topic in production).
 * Codecs {@link #register} their writer schema before first writing with it and {@link #resolve} a
 * fingerprint the {@link SchemaCatalog} does not know.
 */
public interface SchemaResolver {

    /** The writer schema with that CRC-64-AVRO fingerprint, if this resolver knows it. */
    Optional<Schema> resolve(long fingerprint);

    /** Makes {@code schema} resolvable by every reader; returns only once that is durable. */
    void register(Schema schema);

    /** Resolves nothing and registers nowhere: for code that only meets schemas shipped in the jar. */
    static SchemaResolver none() {
        return new SchemaResolver() {
            @Override
            public Optional<Schema> resolve(long fingerprint) {
                return Optional.empty();
            }

            @Override
            public void register(Schema schema) {}
        };
    }

    /** A process-local registry: what one codec registers, another can resolve (broker-less tests). */
    static SchemaResolver inMemory() {
        Map<Long, Schema> schemas = new ConcurrentHashMap<>();
        return new SchemaResolver() {
            @Override
            public Optional<Schema> resolve(long fingerprint) {
                return Optional.ofNullable(schemas.get(fingerprint));
            }

            @Override
            public void register(Schema schema) {
                schemas.put(SchemaCatalog.fingerprint(schema), schema);
            }
        };
    }
}
