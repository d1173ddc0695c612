package io.mailstream.streams;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.errors.RetryOperator;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The streams topology: {@code mailstream.changes} -> fencing, validation, canonical state ->
 * {@code mailstream.state}, {@code mailstream.dlq} and one {@code mailstream.feed.<tier>} per tier.
 * Two global stores give every task the same view: {@code mailstream.control} (who is primary) and
 * {@link #CONTENT_TOPIC} (message bodies by GUID, so a record can get a body first seen for
 * another user). A second sub-topology, {@link ContentReferences}, reads which keys reference
 * each body and deletes the bodies nothing has referenced for {@code streams.content.grace.seconds}.
 */
public final class MailstreamTopology {
    /**
     * Chunks of every message body seen, key {@code <guid>/<chunkIndex>}, value the content event as
     * it was in mailstream.changes (compacted). Written by the tasks, read by every task through a
     * global store: a GUID first seen for one user may be referenced by any other user. A body no
     * live record references any more is deleted (tombstones) after the grace. It also
     * holds the tasks' probes (see {@link #probeKey}), a few keys per task, which are not bodies.
     */
    public static final String CONTENT_TOPIC = Topics.STREAMS_CONTENT;

    static final String CONTROL_STORE = "control";
    static final String CONTENT_STORE = "content-by-guid";
    static final String STATE_STORE = "canonical-state";
    static final String EVENT_ID_STORE = "event-ids";
    static final String CONTENT_ON_KEY_STORE = "content-on-key";
    static final String PARKED_STORE = "parked-events";
    static final String PARKED_KEYS_STORE = "parked-keys";
    /** Per change task: {@code <partitionKey>|<guid>} -> live records of that body in the key's canonical state. */
    static final String LIVE_BODIES_ON_KEY_STORE = "live-bodies-on-key";
    /** Per GUID task ({@link ContentReferences}): which keys reference a body, and its chunk count. */
    static final String CONTENT_REFERENCES_STORE = "content-references";
    /** Per GUID task: bodies nothing references, since when. */
    static final String CONTENT_UNREFERENCED_STORE = "content-unreferenced";

    static final String STATE_SINK = "state";
    static final String DLQ_SINK = "dlq";
    static final String CONTENT_SINK = "content";
    static final String REFERENCES_SINK = "content-references";
    static final String CONTENT_DELETE_SINK = "content-delete";
    static final String REFERENCES_DELETE_SINK = "content-references-delete";
    static final String CONTENT_DELETED_METER = "mailstream.streams.content.deleted";
    /** How often bodies unreferenced for longer than the grace are looked for. */
    static final Duration CONTENT_COLLECT_INTERVAL = Duration.ofMinutes(1);

    static final String DEAD_LETTERS_METER = "mailstream.streams.dead.letters";
    static final String DUPLICATES_METER = "mailstream.streams.duplicates.dropped";
    /** Rounds in which parked events were tried again: shows that events are waiting and being looked at. */
    static final String PARKED_CHECKS_METER = "mailstream.streams.parked.checks";
    /** How long an event id is remembered: duplicates come from retries and replays within hours, not weeks. */
    static final Duration EVENT_ID_RETENTION = Duration.ofDays(7);
    /** How often events waiting for a body first seen under another key are retried. */
    static final Duration PARKED_RETRY_INTERVAL = Duration.ofSeconds(1);
    /**
     * Keys in the content topic that are not bodies: a task's probe, one per content partition, by
     * which it learns that the global content store has read that partition past a point.
     */
    private static final String PROBE_PREFIX = "~probe/";

    private static final String CHANGES_SOURCE = "changes";
    private static final String PROCESSOR = "fence-validate-fold-fan-out";
    private static final String REFERENCES_SOURCE = "content-references-source";
    private static final String REFERENCES_PROCESSOR = "content-references-count-delete";

    private MailstreamTopology() {}

    /** {@code log}: how far mailstream.changes has been read, which decides when a missing body will not come. */
    public static Topology build(
            MailstreamConfig config, SchemaResolver schemas, MeterRegistry meters, ChangesLog log) {
        List<TierRoute> tiers = TierRoute.all(config);
        AvroCodec<ChangeEvent> changes = AvroCodec.changeEvent(schemas);
        AvroCodec<ControlEvent> control = AvroCodec.controlEvent(schemas);

        Topology topology = new Topology();
        addGlobalCopy(topology, Topics.CONTROL, CONTROL_STORE);
        addGlobalCopy(topology, CONTENT_TOPIC, CONTENT_STORE);

        // Values are read as bytes and decoded inside the processor, so an undecodable event is
        // dead-lettered like any other invalid one instead of failing the consumer.
        topology.addSource(CHANGES_SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), Topics.CHANGES);
        // One for every task and thread of this instance, so attempts at an event are counted across a thread
        // replacement.
        RetryOperator retries = new RetryOperator("streams", RetryOperator.Settings.of(config), meters);
        topology.addProcessor(
                PROCESSOR, () -> new ChangeProcessor(tiers, changes, control, meters, log, retries), CHANGES_SOURCE);
        topology.addStateStore(
                Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(), AvroSerdes.stateRecord(schemas)),
                PROCESSOR);
        topology.addStateStore(
                Stores.windowStoreBuilder(
                        Stores.persistentWindowStore(EVENT_ID_STORE, EVENT_ID_RETENTION, EVENT_ID_RETENTION, false),
                        Serdes.String(),
                        Serdes.Long()),
                PROCESSOR);
        topology.addStateStore(
                Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(CONTENT_ON_KEY_STORE), Serdes.String(), Serdes.Long()),
                PROCESSOR);

        topology.addStateStore(
                Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(PARKED_STORE), Serdes.String(), Serdes.ByteArray()),
                PROCESSOR);
        topology.addStateStore(
                Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(PARKED_KEYS_STORE), Serdes.String(), Serdes.Long()),
                PROCESSOR);
        topology.addStateStore(
                Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(LIVE_BODIES_ON_KEY_STORE), Serdes.String(), Serdes.Long()),
                PROCESSOR);

        topology.addSink(
                STATE_SINK,
                Topics.STATE,
                new StringSerializer(),
                AvroSerdes.stateRecord(schemas).serializer(),
                PROCESSOR);
        topology.addSink(
                DLQ_SINK,
                Topics.DLQ,
                new StringSerializer(),
                AvroSerdes.deadLetter(schemas).serializer(),
                PROCESSOR);
        topology.addSink(
                CONTENT_SINK,
                CONTENT_TOPIC,
                new StringSerializer(),
                new ByteArraySerializer(),
                MailstreamTopology::contentPartitions,
                PROCESSOR);
        topology.addSink(
                REFERENCES_SINK,
                Topics.STREAMS_CONTENT_REFERENCES,
                new StringSerializer(),
                new ByteArraySerializer(),
                ContentReferences::partitionByGuid,
                PROCESSOR);

        // Where every reference to a body meets: a sub-topology of its own, by GUID.
        Duration grace = Duration.ofSeconds(config.get(ConfigKeys.STREAMS_CONTENT_GRACE_SECONDS));
        topology.addSource(
                REFERENCES_SOURCE,
                new StringDeserializer(),
                new ByteArrayDeserializer(),
                Topics.STREAMS_CONTENT_REFERENCES);
        topology.addProcessor(REFERENCES_PROCESSOR, () -> new ContentReferences(grace, meters), REFERENCES_SOURCE);
        topology.addStateStore(
                Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(CONTENT_REFERENCES_STORE), Serdes.String(), Serdes.Long()),
                REFERENCES_PROCESSOR);
        topology.addStateStore(
                Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(CONTENT_UNREFERENCED_STORE), Serdes.String(), Serdes.Long()),
                REFERENCES_PROCESSOR);
        topology.addSink(
                CONTENT_DELETE_SINK,
                CONTENT_TOPIC,
                new StringSerializer(),
                new ByteArraySerializer(),
                REFERENCES_PROCESSOR);
        topology.addSink(
                REFERENCES_DELETE_SINK,
                Topics.STREAMS_CONTENT_REFERENCES,
                new StringSerializer(),
                new ByteArraySerializer(),
                ContentReferences::partitionByGuid,
                REFERENCES_PROCESSOR);

        for (TierRoute tier : tiers) {
            // Feeds carry the events' original bytes: no re-encoding, the writer schema stays the source's.
            topology.addSink(
                    tier.sinkName(), tier.feedTopic(), new StringSerializer(), new ByteArraySerializer(), PROCESSOR);
        }
        return topology;
    }

    static String chunkKey(String guid, int chunkIndex) {
        return Topics.contentChunkKey(guid, chunkIndex);
    }

    /** A task's probe for one partition of the content topic (GUIDs are hex, so no chunk key looks like it). */
    static String probeKey(String task, int contentPartition) {
        return PROBE_PREFIX + task + "/" + contentPartition;
    }

    /** Bodies go where their key hashes to; a probe goes to the partition its key names. */
    private static Optional<Set<Integer>> contentPartitions(String topic, String key, byte[] value, int numPartitions) {
        if (key == null || !key.startsWith(PROBE_PREFIX)) {
            return Optional.empty();
        }
        return Optional.of(Set.of(Integer.parseInt(key.substring(key.lastIndexOf('/') + 1)) % numPartitions));
    }

    /** A global store holding the topic's latest raw value per key (restored as-is on start-up). */
    private static void addGlobalCopy(Topology topology, String topic, String storeName) {
        topology.addGlobalStore(
                Stores.keyValueStoreBuilder(
                                Stores.persistentKeyValueStore(storeName), Serdes.String(), Serdes.ByteArray())
                        .withLoggingDisabled(),
                storeName + "-source",
                new StringDeserializer(),
                new ByteArrayDeserializer(),
                topic,
                storeName + "-copy",
                () -> new GlobalCopy(storeName));
    }

    private static final class GlobalCopy implements Processor<String, byte[], Void, Void> {
        private final String storeName;
        private KeyValueStore<String, byte[]> store;

        GlobalCopy(String storeName) {
            this.storeName = storeName;
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            store = context.getStateStore(storeName);
        }

        @Override
        public void process(Record<String, byte[]> record) {
            if (record.value() == null) {
                store.delete(record.key());
            } else {
                store.put(record.key(), record.value());
            }
        }
    }
}
