package io.mailstream.streams;

import io.mailstream.core.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where all references to one message body meet: {@link Topics#STREAMS_CONTENT_REFERENCES}, partitioned
 * by GUID, says per partition key whether it holds a live record of the body (the change tasks
 * write it when a key's count of such records goes from 0 to 1 and back) and when a body was
 * published. A body that no key references is deleted from the content topic (a tombstone per
 * chunk, which also empties every instance's global content store) once it has stayed
 * unreferenced for the grace: a reference in between (a MOVE whose expunge on the old key is
 * processed before the record on the new one, an expunged message restored) cancels it. Every
 * store and topic write here commits in the task's exactly-once transaction with the input offset.
 */
final class ContentReferences implements Processor<String, byte[], String, byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(ContentReferences.class);
    /** Value of a {@code <guid>|<partitionKey>} record: that key holds a live record of the body. */
    static final byte[] REFERENCED = {1};

    private static final char SEPARATOR = '|';
    /** Keys of the unreferenced store ordered by time: {@code ~since/<ms, 19 digits>/<guid>}. GUIDs are hex, so no GUID key sorts among them. */
    private static final String SINCE_PREFIX = "~since/";
    /** Bodies deleted in one punctuation at most, so that one transaction stays small; the rest follow at the next. */
    private static final int MAX_PER_ROUND = 10_000;

    private final Duration grace;
    private final MeterRegistry meters;
    private ProcessorContext<String, byte[]> context;
    /** {@code <guid>|<partitionKey>} -> 1 while referenced; {@code <guid>} -> chunk count once published. */
    private KeyValueStore<String, Long> references;
    /** {@code <guid>} -> since when nothing references it, plus the same by time under {@link #SINCE_PREFIX}. */
    private KeyValueStore<String, Long> unreferenced;

    private ReadOnlyKeyValueStore<String, byte[]> contentByGuid;

    ContentReferences(Duration grace, MeterRegistry meters) {
        this.grace = grace;
        this.meters = meters;
    }

    /** Key of a reference record: the body's GUID, then the partition key. */
    static String referenceKey(String guid, String partitionKey) {
        return guid + SEPARATOR + partitionKey;
    }

    /** Value of a body's own record: how many chunks it has. */
    static byte[] published(int chunkCount) {
        return ByteBuffer.allocate(Integer.BYTES).putInt(chunkCount).array();
    }

    /** Every record about one body goes to the partition its GUID hashes to. */
    static Optional<Set<Integer>> partitionByGuid(String topic, String key, byte[] value, int numPartitions) {
        int bar = key.indexOf(SEPARATOR);
        return Optional.of(Set.of(Topics.partitionOf(bar < 0 ? key : key.substring(0, bar), numPartitions)));
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.references = context.getStateStore(MailstreamTopology.CONTENT_REFERENCES_STORE);
        this.unreferenced = context.getStateStore(MailstreamTopology.CONTENT_UNREFERENCED_STORE);
        this.contentByGuid = context.getStateStore(MailstreamTopology.CONTENT_STORE);
        // Wall-clock time of this instance (a test moves it), not stream time: a quiet topic must not hold deletes
        // back.
        context.schedule(MailstreamTopology.CONTENT_COLLECT_INTERVAL, PunctuationType.WALL_CLOCK_TIME, this::collect);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String key = record.key();
        if (key == null) {
            return;
        }
        long now = context.currentSystemTimeMs();
        int bar = key.indexOf(SEPARATOR);
        if (bar < 0) {
            if (record.value() == null) {
                return; // this processor's own tombstone for a body it deleted
            }
            references.put(key, (long) ByteBuffer.wrap(record.value()).getInt());
            if (!isReferenced(key)) {
                markUnreferenced(key, now, true); // published (again): its grace starts now
            }
            return;
        }
        String guid = key.substring(0, bar);
        if (record.value() != null) {
            references.put(key, 1L);
            cancel(guid);
        } else {
            references.delete(key);
            if (!isReferenced(guid)) {
                markUnreferenced(guid, now, false);
            }
        }
    }

    private boolean isReferenced(String guid) {
        try (KeyValueIterator<String, Long> refs = references.prefixScan(guid + SEPARATOR, new StringSerializer())) {
            return refs.hasNext();
        }
    }

    private void markUnreferenced(String guid, long now, boolean restart) {
        Long since = unreferenced.get(guid);
        if (since != null && !restart) {
            return;
        }
        if (since != null) {
            unreferenced.delete(sinceKey(since, guid));
        }
        unreferenced.put(guid, now);
        unreferenced.put(sinceKey(now, guid), now);
    }

    private void cancel(String guid) {
        Long since = unreferenced.get(guid);
        if (since != null) {
            unreferenced.delete(guid);
            unreferenced.delete(sinceKey(since, guid));
        }
    }

    private static String sinceKey(long since, String guid) {
        return SINCE_PREFIX + String.format("%019d", Math.max(0, since)) + "/" + guid;
    }

    /** Deletes the bodies unreferenced for longer than the grace. */
    private void collect(long now) {
        long due = now - grace.toMillis();
        if (due < 0) {
            return;
        }
        List<KeyValue<String, Long>> expired = new ArrayList<>();
        try (KeyValueIterator<String, Long> byTime = unreferenced.range(SINCE_PREFIX, sinceKey(due, "~"))) {
            while (byTime.hasNext() && expired.size() < MAX_PER_ROUND) {
                expired.add(byTime.next());
            }
        }
        int deleted = 0;
        for (KeyValue<String, Long> entry : expired) {
            String guid = entry.key.substring(entry.key.lastIndexOf('/') + 1);
            unreferenced.delete(entry.key);
            Long since = unreferenced.get(guid);
            if (since == null || !since.equals(entry.value) || isReferenced(guid)) {
                continue; // referenced again, or its grace restarted
            }
            unreferenced.delete(guid);
            delete(guid, now);
            deleted++;
        }
        if (deleted > 0) {
            meters.counter(MailstreamTopology.CONTENT_DELETED_METER).increment(deleted);
            LOG.info(
                    "task {}: deleted {} message bodies no mailbox has referenced for {} from {}",
                    context.taskId(),
                    deleted,
                    grace,
                    MailstreamTopology.CONTENT_TOPIC);
        }
    }

    /** A tombstone for every chunk of the body (those published, and any the global store holds), then for its own record. */
    private void delete(String guid, long now) {
        Set<String> chunks = new TreeSet<>();
        Long count = references.get(guid);
        for (int i = 0; count != null && i < count; i++) {
            chunks.add(MailstreamTopology.chunkKey(guid, i));
        }
        try (KeyValueIterator<String, byte[]> held = contentByGuid.prefixScan(guid + "/", new StringSerializer())) {
            held.forEachRemaining(kv -> chunks.add(kv.key));
        }
        for (String chunk : chunks) {
            context.forward(new Record<>(chunk, null, now), MailstreamTopology.CONTENT_DELETE_SINK);
        }
        references.delete(guid);
        context.forward(new Record<>(guid, null, now), MailstreamTopology.REFERENCES_DELETE_SINK);
    }
}
