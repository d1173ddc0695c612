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
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes {@code mailstream.control}: which tier is primary at which epoch, the
 * assignment of every epoch, and the role of each tier. Keys: {@code "*"} for the current
 * {@link PrimaryAssignment}, {@code epoch:<n>} for the assignment of epoch n (kept: streams judges
 * an event by the epoch it was captured under), {@code tier:<name>} for a {@link TierRoleChange}.
 *
 * <p>Every write is compare-and-set: all writers share one transactional id, so a writer's
 * {@code initTransactions} fences any other writer in between its read and its commit. A writer
 * initialises, reads the topic to its end, checks the epoch it expects, writes and commits; if
 * another writer started meanwhile, the commit fails and nothing of it is visible
 * ({@link ControlConflictException}). Two promotions at once, or two captures bootstrapping an
 * empty topic, cannot both win.
 *
 * <p>A promotion after the first fences the previous primary's capture at the broker (its
 * transactional id is derived from its tier) and records the fence point: the end offsets of
 * {@code mailstream.changes} after that fence. Whatever the old capture committed is below them,
 * and it cannot commit anything after. It does so in two steps so that no capture can start
 * writing between the fence and the record of it: first the new assignment with
 * {@code fencePending} (from then on the old tier's capture refuses, and a restarted one reads it
 * after its own fencing initialisation), then the fence, then the fence point. The new primary's
 * capture accepts only once the fence point is recorded, so in every partition of
 * mailstream.changes the events of one epoch all come before those of the next.
 */
public final class ControlTopic {
    private static final Logger LOG = LoggerFactory.getLogger(ControlTopic.class);
    public static final String ALL_KEYS = "*";
    /** The one transactional id of every control writer: what makes control writes compare-and-set. */
    public static final String TRANSACTIONAL_ID = "mailstream-control";

    static final String TIER_PREFIX = "tier:";
    private static final String EPOCH_PREFIX = "epoch:";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String bootstrapServers;
    private final SchemaResolver schemas;

    public ControlTopic(String bootstrapServers, SchemaResolver schemas) {
        this.bootstrapServers = bootstrapServers;
        this.schemas = schemas;
    }

    /** Key of the assignment of one epoch. */
    public static String epochKey(long epoch) {
        return EPOCH_PREFIX + epoch;
    }

    /** Key of a tier's role. */
    public static String tierKey(String tier) {
        return TIER_PREFIX + tier;
    }

    /**
     * The transactional id of the capture that fronts {@code tier}: one writer per tier at the
     * broker, and what a promotion initialises to fence the previous primary's capture.
     */
    public static String captureTransactionalId(String tier) {
        return "mailstream-capture-" + tier;
    }

    /** The latest control event per key, read to the end of the topic. */
    public Map<String, ControlEvent> readLatest() {
        Map<String, ControlEvent> latest = new LinkedHashMap<>();
        var serde = AvroSerdes.controlEvent(schemas);
        try (var consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrapServers, null), new StringDeserializer(), serde.deserializer())) {
            TopicReader.readToEnd(consumer, Topics.CONTROL, TIMEOUT, r -> {
                if (r.value() == null) latest.remove(r.key());
                else latest.put(r.key(), r.value());
            });
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new KafkaUnavailableException("cannot read " + Topics.CONTROL + " from " + bootstrapServers, e);
        }
        return latest;
    }

    /** The whole control state, read to the end of the topic. */
    public ControlState read() {
        return new ControlState(readLatest());
    }

    /** The current primary assignment, if any. */
    public Optional<PrimaryAssignment> primary() {
        return read().primary();
    }

    /**
     * Starts a compare-and-set write: fences every other control writer, then reads the topic to
     * its end. Check {@link Write#state()}, then {@link Write#commit}; a writer that started after
     * this one makes the commit fail.
     */
    public Write begin() {
        return new Write();
    }

    /**
     * The first assignment: {@code tier} becomes primary at epoch 1. Refused (nothing written) if
     * any assignment exists, so two captures or operators bootstrapping at once cannot both win.
     */
    public PrimaryAssignment promoteInitial(String tier, String site, String actor, String reason) {
        try (Write w = begin()) {
            Optional<PrimaryAssignment> current = w.state().primary();
            if (current.isPresent()) {
                throw new ControlConflictException("tier '" + current.get().getTier() + "' is already primary at epoch "
                        + current.get().getEpoch() + ": an initial promotion is only for an empty " + Topics.CONTROL);
            }
            PrimaryAssignment first = assignment(tier, site, 1, false, List.of());
            w.commit(List.of(
                    assignmentRecord(ALL_KEYS, first, actor, reason),
                    assignmentRecord(epochKey(1), first, actor, reason),
                    roleRecord(tier, TierRole.PRIMARY, 1, actor, reason)));
            LOG.info("tier {} is primary at epoch 1 ({})", tier, reason);
            return first;
        }
    }

    /**
     * Makes {@code tier} primary at {@code expectedEpoch + 1} if the current epoch is still
     * {@code expectedEpoch}, gives the previous primary {@code previousRole}, fences the previous
     * primary's capture at the broker and records the fence point. Returns the complete assignment.
     * A promotion whose fence is still pending (its promoter died between the steps) is completed
     * first, and then this one is refused, since the epoch has moved.
     */
    public PrimaryAssignment promote(
            String tier, long expectedEpoch, TierRole previousRole, String site, String actor, String reason) {
        PrimaryAssignment pending;
        String previousTier;
        try (Write w = begin()) {
            PrimaryAssignment current = w.state()
                    .primary()
                    .orElseThrow(() -> new ControlConflictException(
                            "no tier is primary yet: the first promotion is an initial one"));
            if (current.getFencePending()) {
                w.close();
                completeFence(current.getEpoch(), actor);
                throw new ControlConflictException("the promotion to epoch " + current.getEpoch() + " had not recorded"
                        + " its fence point; it is now complete, and the epoch is no longer " + expectedEpoch);
            }
            if (current.getEpoch() != expectedEpoch) {
                throw new ControlConflictException("the epoch is " + current.getEpoch() + " (tier '" + current.getTier()
                        + "' primary), not the expected " + expectedEpoch + ": another promotion came first");
            }
            if (current.getTier().equals(tier)) {
                throw new ControlConflictException("tier '" + tier + "' is already primary at epoch " + expectedEpoch);
            }
            previousTier = current.getTier();
            long epoch = expectedEpoch + 1;
            pending = assignment(tier, site, epoch, true, null);
            List<ProducerRecord<String, ControlEvent>> records = new ArrayList<>();
            if (!w.state().latest().containsKey(epochKey(expectedEpoch))) {
                // Written before assignments were kept per epoch: keep it now, the fence needs it.
                records.add(assignmentRecord(
                        epochKey(expectedEpoch), current, actor, "assignment of epoch " + expectedEpoch));
            }
            records.add(assignmentRecord(ALL_KEYS, pending, actor, reason));
            records.add(assignmentRecord(epochKey(epoch), pending, actor, reason));
            records.add(roleRecord(tier, TierRole.PRIMARY, epoch, actor, reason));
            records.add(roleRecord(previousTier, previousRole, epoch, actor, reason));
            w.commit(records);
        }
        LOG.info(
                "tier {} is primary at epoch {}; fencing the capture of tier {}",
                tier,
                pending.getEpoch(),
                previousTier);
        return completeFence(pending.getEpoch(), actor);
    }

    /**
     * Sets a tier's role at the current epoch, if the epoch is still {@code expectedEpoch} (a
     * reconciled tier becoming a replica again, say).
     */
    public void setTierRole(String tier, TierRole role, long expectedEpoch, String actor, String reason) {
        try (Write w = begin()) {
            long epoch = w.state().epoch();
            if (epoch != expectedEpoch) {
                throw new ControlConflictException("the epoch is " + epoch + ", not the expected " + expectedEpoch);
            }
            w.commit(List.of(roleRecord(tier, role, epoch, actor, reason)));
        }
    }

    /**
     * The second step of a promotion to {@code epoch}: fence the previous primary's capture at the
     * broker, take the end offsets of mailstream.changes, record them. Idempotent.
     */
    public PrimaryAssignment completeFence(long epoch, String actor) {
        ControlState before = read();
        PrimaryAssignment pending = before.assignment(epoch)
                .orElseThrow(() ->
                        new ControlConflictException("no assignment of epoch " + epoch + " in " + Topics.CONTROL));
        if (!pending.getFencePending()) {
            return pending;
        }
        PrimaryAssignment previous = before.assignment(epoch - 1)
                .orElseThrow(() -> new ControlConflictException(
                        "no assignment of epoch " + (epoch - 1) + " to fence in " + Topics.CONTROL));
        fenceCapture(previous.getTier());
        List<Long> fencePoint = endOffsetsOfChanges();
        try (Write w = begin()) {
            PrimaryAssignment current = w.state().assignment(epoch).orElseThrow();
            if (!current.getFencePending()) {
                return current; // another promoter completed it
            }
            PrimaryAssignment done = PrimaryAssignment.newBuilder(current)
                    .setFencePending(false)
                    .setFencePoint(fencePoint)
                    .build();
            List<ProducerRecord<String, ControlEvent>> records = new ArrayList<>();
            records.add(assignmentRecord(epochKey(epoch), done, actor, "fenced tier " + previous.getTier()));
            if (w.state().epoch() == epoch) {
                records.add(assignmentRecord(ALL_KEYS, done, actor, "fenced tier " + previous.getTier()));
            }
            w.commit(records);
            LOG.info(
                    "epoch {}: the capture of {} is fenced; what it committed ends at {}",
                    epoch,
                    previous.getTier(),
                    fencePoint);
            return done;
        }
    }

    /** Initialises the capture transactional id of {@code tier}: aborts its open transaction and fences its producer. */
    private void fenceCapture(String tier) {
        var props = KafkaClients.producerProps(bootstrapServers, captureTransactionalId(tier), 1 << 20);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TIMEOUT.toMillis());
        try (var producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
        } catch (KafkaException e) {
            throw new KafkaUnavailableException(
                    "cannot fence the capture of tier '" + tier + "': " + e.getMessage(), e);
        }
    }

    /** High watermarks, not the last stable offsets: every record of the fenced capture, committed or not, is below them. */
    private List<Long> endOffsetsOfChanges() {
        var props = KafkaClients.consumerProps(bootstrapServers, null);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        try (var consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(Topics.CHANGES, TIMEOUT).stream()
                    .map(p -> new TopicPartition(Topics.CHANGES, p.partition()))
                    .sorted(java.util.Comparator.comparingInt(TopicPartition::partition))
                    .toList();
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, TIMEOUT);
            return parts.stream().map(end::get).toList();
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new KafkaUnavailableException("cannot read the end offsets of " + Topics.CHANGES, e);
        }
    }

    static PrimaryAssignment assignment(String tier, String site, long epoch, boolean pending, List<Long> fencePoint) {
        return PrimaryAssignment.newBuilder()
                .setScope(ALL_KEYS)
                .setServerId("")
                .setSite(site)
                .setEpoch(epoch)
                .setTier(tier)
                .setFencePending(pending)
                .setFencePoint(fencePoint)
                .build();
    }

    static ProducerRecord<String, ControlEvent> assignmentRecord(
            String key, PrimaryAssignment a, String actor, String reason) {
        return new ProducerRecord<>(Topics.CONTROL, key, event(a, actor, reason));
    }

    private static ProducerRecord<String, ControlEvent> roleRecord(
            String tier, TierRole role, long epoch, String actor, String reason) {
        return new ProducerRecord<>(
                Topics.CONTROL,
                tierKey(tier),
                event(
                        TierRoleChange.newBuilder()
                                .setTier(tier)
                                .setRole(role)
                                .setEpoch(epoch)
                                .build(),
                        actor,
                        reason));
    }

    private static ControlEvent event(Object payload, String actor, String reason) {
        return ControlEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setTime(System.currentTimeMillis())
                .setActor(actor)
                .setReason(reason)
                .setPayload(payload)
                .build();
    }

    /** One compare-and-set write: the state as read after fencing every other writer, then one commit. */
    public final class Write implements AutoCloseable {
        private final KafkaProducer<String, ControlEvent> producer;
        private final ControlState state;
        private boolean closed;

        private Write() {
            var props = KafkaClients.producerProps(bootstrapServers, TRANSACTIONAL_ID, 1 << 20);
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TIMEOUT.toMillis());
            KafkaProducer<String, ControlEvent> p = new KafkaProducer<>(
                    props,
                    new StringSerializer(),
                    AvroSerdes.controlEvent(schemas).serializer());
            try {
                p.initTransactions();
                this.state = read();
            } catch (RuntimeException e) {
                p.close(Duration.ZERO);
                if (e instanceof KafkaUnavailableException) throw e;
                throw new KafkaUnavailableException(
                        "cannot start a write to " + Topics.CONTROL + ": " + e.getMessage(), e);
            }
            this.producer = p;
        }

        /** mailstream.control as it stood when this write began. */
        public ControlState state() {
            return state;
        }

        /** Writes the records in one transaction; fails with {@link ControlConflictException} if another writer began since. */
        public void commit(List<ProducerRecord<String, ControlEvent>> records) {
            try {
                producer.beginTransaction();
                for (ProducerRecord<String, ControlEvent> r : records) {
                    producer.send(r);
                }
                producer.commitTransaction();
            } catch (ProducerFencedException | InvalidProducerEpochException e) {
                throw new ControlConflictException(
                        "another write to " + Topics.CONTROL + " began meanwhile; nothing"
                                + " of this one was committed: read it again",
                        e);
            } catch (KafkaException e) {
                try {
                    producer.abortTransaction();
                } catch (RuntimeException ignored) {
                    // the transaction times out on its own
                }
                if (e.getCause() instanceof ProducerFencedException
                        || e.getCause() instanceof InvalidProducerEpochException) {
                    throw new ControlConflictException(
                            "another write to " + Topics.CONTROL + " began meanwhile; nothing"
                                    + " of this one was committed: read it again",
                            e);
                }
                throw new KafkaUnavailableException("cannot write to " + Topics.CONTROL + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                producer.close(Duration.ofSeconds(5));
            }
        }
    }
}
