package io.mailstream.streams;

import io.mailstream.core.errors.ErrorPolicy;
import io.mailstream.core.state.StateFold;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.DeadLetterReason;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.EventDecodingException;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every change event, per partition key and in order: decode, fence, drop duplicates, check that
 * referenced content exists and modseqs move forward, fold into canonical state, fan out to the
 * tiers' feeds. An event that fails a check goes to the DLQ with its reason and processing goes
 * on; what an error means is decided by {@link ErrorPolicy} alone. A record whose body is not
 * indexed yet is parked (see below) rather than rejected.
 */
final class ChangeProcessor implements Processor<String, byte[], String, Object> {
    private static final String ROLE = "streams";
    private static final char PARK_SEPARATOR = '\u0000';

    private final List<TierRoute> tiers;
    private final AvroCodec<ChangeEvent> changes;
    private final AvroCodec<ControlEvent> control;
    private final MeterRegistry meters;

    private ProcessorContext<String, Object> context;
    private Fencing fencing;
    private KeyValueStore<String, StateRecord> state;
    private WindowStore<String, Long> eventIds;
    private KeyValueStore<String, Long> contentOnKey;
    private ReadOnlyKeyValueStore<String, byte[]> contentByGuid;
    private KeyValueStore<String, byte[]> parked;
    private KeyValueStore<String, Long> parkedKeys;

    ChangeProcessor(List<TierRoute> tiers, AvroCodec<ChangeEvent> changes, AvroCodec<ControlEvent> control,
                    MeterRegistry meters) {
        this.tiers = tiers;
        this.changes = changes;
        this.control = control;
        this.meters = meters;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.fencing = new Fencing(context.getStateStore(MailstreamTopology.CONTROL_STORE), control);
        this.state = context.getStateStore(MailstreamTopology.STATE_STORE);
        this.eventIds = context.getStateStore(MailstreamTopology.EVENT_ID_STORE);
        this.contentOnKey = context.getStateStore(MailstreamTopology.CONTENT_ON_KEY_STORE);
        this.contentByGuid = context.getStateStore(MailstreamTopology.CONTENT_STORE);
        this.parked = context.getStateStore(MailstreamTopology.PARKED_STORE);
        this.parkedKeys = context.getStateStore(MailstreamTopology.PARKED_KEYS_STORE);
        context.schedule(MailstreamTopology.PARKED_RETRY_INTERVAL, PunctuationType.WALL_CLOCK_TIME, this::retryParked);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        Incoming event = Incoming.of(record, context.recordMetadata().orElseThrow());
        if (parkedKeys.get(keyOf(event)) != null || !handle(event, false)) {
            park(event); // behind a parked event of its key, or itself waiting for content
        }
    }

    /**
     * Processes one event; false when it must wait for a body not indexed yet. With
     * {@code giveUp} a missing body is final and the event is dead-lettered.
     */
    private boolean handle(Incoming incoming, boolean giveUp) {
        String eventId = null;
        try {
            ChangeEvent event = changes.decode(incoming.value());
            eventId = event.getEnvelope().getEventId();
            apply(incoming, event);
        } catch (RuntimeException e) {
            if (!giveUp && e instanceof Rejection r && r.reason() == DeadLetterReason.MISSING_CONTENT) {
                return false;
            }
            if (ErrorPolicy.handle(ROLE, e) != ErrorPolicy.Action.DEAD_LETTER) {
                throw e; // retried by replacing the stream thread, or the application stops
            }
            deadLetter(incoming, e, eventId);
        }
        return true;
    }

    /*
     * Parking. A body first seen under another key reaches the global GUID store only once that
     * key's task has committed it, which can be after a record of this key referencing it is
     * processed (different partitions have no order between them). So a record whose body is
     * unknown waits, with every later event of its key behind it to keep the key's order, and is
     * retried every PARKED_RETRY_INTERVAL; only after PARKED_GRACE without the body is it
     * dead-lettered as MISSING_CONTENT. Other keys are not held up.
     */

    private void park(Incoming event) {
        String key = keyOf(event);
        if (parkedKeys.get(key) == null) {
            parkedKeys.put(key, context.currentSystemTimeMs());
        }
        parked.put(parkedKey(key, event.offset()), event.toBytes());
    }

    private void retryParked(long now) {
        List<KeyValue<String, Long>> keys = new ArrayList<>();
        try (KeyValueIterator<String, Long> all = parkedKeys.all()) {
            all.forEachRemaining(keys::add);
        }
        for (KeyValue<String, Long> key : keys) {
            List<KeyValue<String, byte[]>> queue = new ArrayList<>();
            try (KeyValueIterator<String, byte[]> events = parked.prefixScan(key.key + PARK_SEPARATOR, new StringSerializer())) {
                events.forEachRemaining(queue::add);
            }
            boolean giveUp = now - key.value >= MailstreamTopology.PARKED_GRACE.toMillis();
            int done = 0;
            for (KeyValue<String, byte[]> entry : queue) {
                // Only the head has waited the whole grace; an event behind it gets its own.
                if (!handle(Incoming.fromBytes(entry.value), giveUp && done == 0)) {
                    break;
                }
                parked.delete(entry.key);
                done++;
            }
            if (done == queue.size()) {
                parkedKeys.delete(key.key);
            } else if (done > 0) {
                parkedKeys.put(key.key, now);
            }
        }
    }

    private static String keyOf(Incoming event) {
        return event.key() == null ? "" : event.key();
    }

    /** Offsets order a partition, hence a key; zero-padded so that the store's byte order is theirs. */
    private static String parkedKey(String key, long offset) {
        return key + PARK_SEPARATOR + String.format("%019d", offset);
    }

    private void apply(Incoming record, ChangeEvent event) {
        Envelope envelope = event.getEnvelope();
        String key = record.key();
        if (!envelope.getPartitionKey().equals(key)) {
            // Per-key order is only guaranteed for events keyed by their own partition key.
            throw new Rejection(DeadLetterReason.INVALID, "record key '" + key + "' is not the envelope's partition key '"
                    + envelope.getPartitionKey() + "'");
        }
        fencing.check(envelope);
        long time = record.timestamp();
        if (seenBefore(envelope.getEventId(), time)) {
            dropDuplicate();
            return;
        }
        Object payload = event.getPayload();
        ContentCopies copies = payload instanceof RecordsUpsert upsert ? contentFor(key, upsert) : ContentCopies.NONE;

        String stateKey = StateFold.stateKey(event);
        if (stateKey != null && StateFold.leavesKey(event)) {
            leave(stateKey, key);
        } else if (stateKey != null) {
            StateRecord next = CanonicalState.next(stateKey, state.get(stateKey), event);
            if (next == null) {
                remember(envelope.getEventId(), time);
                dropDuplicate();
                return;
            }
            state.put(stateKey, next);
            if (CanonicalState.isPublishable(next)) {
                context.forward(new Record<>(stateKey, next, time), MailstreamTopology.STATE_SINK);
            }
        }
        boolean isContent = payload instanceof MessageContent;
        for (TierRoute tier : tiers) {
            if (!tier.wants(key, envelope.getTier()) || (isContent && !tier.inlineContent())) {
                continue;
            }
            if (tier.inlineContent()) {
                forwardCopies(key, copies, envelope, time, tier);
            }
            byte[] value = record.value();
            if (payload instanceof MailboxRename r && StateFold.leavesKey(event) && !tier.wants(r.getNewPartitionKey(), envelope.getTier())) {
                value = deleted(event, r);
            }
            context.forward(new Record<>(key, value, time), tier.sinkName());
        }
        copies.sizeByGuid().forEach((guid, size) -> contentOnKey.put(contentKey(key, guid), size));
        if (payload instanceof MessageContent content) {
            index(key, content, record);
        }
        remember(envelope.getEventId(), time);
    }

    /**
     * A mailbox renamed to another partition key leaves this key's store. Nothing is published:
     * mailstream.state is keyed by uniqueid and the new key publishes the whole mailbox; a
     * "deleted" from here could land after that and hide it. The store entry is dropped only if
     * it is still this key's (within one partition the new key may have taken it over already).
     */
    private void leave(String stateKey, String key) {
        StateRecord current = state.get(stateKey);
        if (current != null && current.getState() instanceof MailboxState m && m.getPartitionKey().equals(key)) {
            state.delete(stateKey);
        }
    }

    /**
     * A mailbox renamed to a key a tier does not take has, for that tier, been deleted: renamed
     * there it would put one user's mail under a user the tier must not hold.
     */
    private byte[] deleted(ChangeEvent event, MailboxRename rename) {
        Envelope envelope = Envelope.newBuilder(event.getEnvelope())
                .setEventId(event.getEnvelope().getEventId() + "/left-tier").build();
        return changes.encode(new ChangeEvent(envelope, MailboxDelete.newBuilder().setUniqueId(rename.getUniqueId())
                .setName(rename.getOldName()).setUidValidity(rename.getUidValidity()).build()));
    }

    /**
     * Bodies first seen under another key that this key's inline feeds need before the records:
     * GUID -> chunk count, and GUID -> size. Only checked here; the chunks are read again one by
     * one as they are forwarded, so a folder moved in from another user never sits in memory whole.
     */
    private record ContentCopies(Map<String, Integer> chunksByGuid, Map<String, Long> sizeByGuid) {
        static final ContentCopies NONE = new ContentCopies(Map.of(), Map.of());
    }

    /**
     * Checks that every body the records reference was seen (an expunged record needs none) and
     * lists the bodies first seen under another partition key, which an inline tier must get
     * ahead of the records.
     */
    private ContentCopies contentFor(String key, RecordsUpsert upsert) {
        Set<String> needed = new LinkedHashSet<>();
        for (MessageRecord r : upsert.getRecords()) {
            if (!StateFold.isExpunged(r) && contentOnKey.get(contentKey(key, r.getGuid())) == null) {
                needed.add(r.getGuid());
            }
        }
        if (needed.isEmpty()) {
            return ContentCopies.NONE;
        }
        Map<String, Integer> chunksByGuid = new LinkedHashMap<>();
        Map<String, Long> sizeByGuid = new LinkedHashMap<>();
        for (String guid : needed) {
            MessageContent head = complete(guid);
            if (head == null) {
                throw new Rejection(DeadLetterReason.MISSING_CONTENT, "mailbox " + upsert.getUniqueId() + " ("
                        + upsert.getMailboxName() + ") references GUID " + guid + " whose content was never seen");
            }
            chunksByGuid.put(guid, head.getChunkCount());
            sizeByGuid.put(guid, head.getSize());
        }
        return new ContentCopies(chunksByGuid, sizeByGuid);
    }

    /** The first chunk of a body in the global content store, if every chunk of it is there; else null. */
    private MessageContent complete(String guid) {
        byte[] first = contentByGuid.get(MailstreamTopology.chunkKey(guid, 0));
        if (first == null) {
            return null;
        }
        MessageContent head = (MessageContent) changes.decode(first).getPayload();
        for (int i = 1; i < head.getChunkCount(); i++) {
            if (contentByGuid.get(MailstreamTopology.chunkKey(guid, i)) == null) {
                return null;
            }
        }
        return head;
    }

    /** Copies of the chunks, stamped with the records' envelope, to one tier's feed, one chunk in memory at a time. */
    private void forwardCopies(String key, ContentCopies copies, Envelope envelope, long time, TierRoute tier) {
        copies.chunksByGuid().forEach((guid, count) -> {
            for (int i = 0; i < count; i++) {
                MessageContent content = (MessageContent) changes.decode(contentByGuid.get(MailstreamTopology.chunkKey(guid, i))).getPayload();
                Envelope copy = Envelope.newBuilder(envelope).setMailboxUniqueId(null)
                        .setEventId(envelope.getEventId() + "/content/" + guid + "/" + content.getChunkIndex()).build();
                context.forward(new Record<>(key, changes.encode(new ChangeEvent(copy, content)), time), tier.sinkName());
            }
        });
    }

    /**
     * Publishes a chunk to the global content store (for records of other keys) and, once the
     * last chunk is in, notes that this key's feeds already carry the body.
     */
    private void index(String key, MessageContent content, Incoming record) {
        context.forward(new Record<>(MailstreamTopology.chunkKey(content.getGuid(), content.getChunkIndex()),
                record.value(), record.timestamp()), MailstreamTopology.CONTENT_SINK);
        if (content.getChunkIndex() == content.getChunkCount() - 1) {
            contentOnKey.put(contentKey(key, content.getGuid()), content.getSize());
        }
    }

    private static String contentKey(String partitionKey, String guid) {
        return partitionKey + "|" + guid;
    }

    private boolean seenBefore(String eventId, long time) {
        long retention = MailstreamTopology.EVENT_ID_RETENTION.toMillis();
        try (WindowStoreIterator<Long> hits = eventIds.fetch(eventId, Math.max(0, time - retention), time + retention)) {
            return hits.hasNext();
        }
    }

    private void remember(String eventId, long time) {
        eventIds.put(eventId, time, time);
    }

    private void dropDuplicate() {
        meters.counter(MailstreamTopology.DUPLICATES_METER).increment();
    }

    private void deadLetter(Incoming record, RuntimeException error, String eventId) {
        DeadLetterReason reason = reasonOf(error);
        meters.counter(MailstreamTopology.DEAD_LETTERS_METER, "reason", reason.name()).increment();
        DeadLetter letter = DeadLetter.newBuilder()
                .setReason(reason)
                .setDetail(String.valueOf(error.getMessage()))
                .setSourceTopic(record.topic())
                .setSourcePartition(record.partition())
                .setSourceOffset(record.offset())
                .setKey(record.key() == null ? null : ByteBuffer.wrap(record.key().getBytes(StandardCharsets.UTF_8)))
                .setValue(record.value() == null ? null : ByteBuffer.wrap(record.value()))
                .setEventId(eventId)
                .setTime(context.currentSystemTimeMs())
                .build();
        context.forward(new Record<>(record.key(), letter, record.timestamp()), MailstreamTopology.DLQ_SINK);
    }

    private static DeadLetterReason reasonOf(RuntimeException error) {
        if (error instanceof Rejection rejection) {
            return rejection.reason();
        }
        if (error instanceof EventDecodingException decoding && decoding.problem() == EventDecodingException.Problem.UNKNOWN_SCHEMA) {
            return DeadLetterReason.UNKNOWN_SCHEMA;
        }
        return error instanceof SerializationException ? DeadLetterReason.UNDECODABLE : DeadLetterReason.INVALID;
    }
}
