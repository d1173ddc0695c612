package io.mailstream.core.control;

import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.KafkaUnavailableException;
import io.mailstream.core.kafka.TopicReader;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.PrimaryAssignment;
import io.mailstream.schemas.TierRole;
import io.mailstream.schemas.TierRoleChange;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads and writes {@code mailstream.control}: who is primary for which scope and at which epoch,
 * and the role of each tier. Keys: the scope for a {@link PrimaryAssignment} ({@code "*"} = every
 * partition key, or one partition key), {@code tier:<name>} for a {@link TierRoleChange}.
 */
public final class ControlTopic {
    public static final String ALL_KEYS = "*";
    private static final String TIER_PREFIX = "tier:";

    private final String bootstrapServers;
    private final SchemaResolver schemas;

    public ControlTopic(String bootstrapServers, SchemaResolver schemas) {
        this.bootstrapServers = bootstrapServers;
        this.schemas = schemas;
    }

    /** The latest control event per key, read to the end of the topic. */
    public Map<String, ControlEvent> readLatest() {
        Map<String, ControlEvent> latest = new LinkedHashMap<>();
        var serde = AvroSerdes.controlEvent(schemas);
        try (var consumer = new KafkaConsumer<>(KafkaClients.consumerProps(bootstrapServers, null),
                new StringDeserializer(), serde.deserializer())) {
            TopicReader.readToEnd(consumer, Topics.CONTROL, Duration.ofSeconds(30), r -> {
                if (r.value() == null) latest.remove(r.key());
                else latest.put(r.key(), r.value());
            });
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new KafkaUnavailableException("cannot read " + Topics.CONTROL + " from " + bootstrapServers, e);
        }
        return latest;
    }

    /** The current primary assignment of a scope, if any. */
    public Optional<PrimaryAssignment> primary(String scope) {
        ControlEvent e = readLatest().get(scope);
        return e != null && e.getPayload() instanceof PrimaryAssignment a ? Optional.of(a) : Optional.empty();
    }

    /** Makes {@code serverId} the primary of {@code scope} at an epoch one above the current one; returns it. */
    public PrimaryAssignment assignPrimary(String scope, String serverId, String site, String tier, String actor, String reason) {
        long epoch = primary(scope).map(PrimaryAssignment::getEpoch).orElse(0L) + 1;
        PrimaryAssignment assignment = PrimaryAssignment.newBuilder().setScope(scope).setServerId(serverId)
                .setSite(site).setEpoch(epoch).setTier(tier).build();
        write(scope, event(assignment, actor, reason));
        return assignment;
    }

    public void setTierRole(String tier, TierRole role, long epoch, String actor, String reason) {
        write(TIER_PREFIX + tier, event(TierRoleChange.newBuilder().setTier(tier).setRole(role).setEpoch(epoch).build(),
                actor, reason));
    }

    private static ControlEvent event(Object payload, String actor, String reason) {
        return ControlEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setTime(System.currentTimeMillis())
                .setActor(actor).setReason(reason).setPayload(payload).build();
    }

    private void write(String key, ControlEvent event) {
        var serde = AvroSerdes.controlEvent(schemas);
        try (var producer = new KafkaProducer<>(KafkaClients.producerProps(bootstrapServers, null, 1 << 20),
                new StringSerializer(), serde.serializer())) {
            producer.send(new ProducerRecord<>(Topics.CONTROL, key, event)).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new KafkaUnavailableException("cannot write to " + Topics.CONTROL + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaUnavailableException("interrupted writing " + Topics.CONTROL, e);
        }
    }
}
