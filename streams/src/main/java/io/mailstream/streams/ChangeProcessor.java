package io.mailstream.streams;

import io.mailstream.core.errors.DeadLetters;
import io.mailstream.core.errors.ErrorPolicy;
import io.mailstream.core.errors.RetryOperator;
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
import io.mailstream.schemas.state.StateFold;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every change event, per partition key and in order: decode, fence, drop duplicates, check that
 * referenced content exists and modseqs move forward, fold into canonical state, fan out to the
 * tiers' feeds. An event that fails a check goes to the DLQ with its reason and processing goes
 * on; what an error means is decided by {@link ErrorPolicy} alone. A record whose body is not
 * indexed yet is parked (see below) rather than rejected.
 */
final class ChangeProcessor implements Processor<String, byte[], String, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(ChangeProcessor.class);
    private static final String ROLE = "streams";
    /** Retries with events still waiting between two warnings (about a minute). */
    private static final int RETRIES_BETWEEN_WARNINGS = 60;

    private static final char PARK_SEPARATOR = '\u0000';
    /** Key in the live-bodies store (no '|', so no count has it): the existing state has been counted. */
    private static final String COUNTED_MARKER = "~counted";

    private final List<TierRoute> tiers;
    private final AvroCodec<ChangeEvent> changes;
    private final AvroCodec<ControlEvent> control;
    private final MeterRegistry meters;
    private final ChangesLog log;
    private final RetryOperator retries;
    /** Set once the current event has written to a store or a sink. */
    private boolean writing;
    /** The current event has failed before: its attempts are to be forgotten when it succeeds. */
    private boolean retrying;

    private ProcessorContext<String, Object> context;
    private Fencing fencing;
    private KeyValueStore<String, StateRecord> state;
    private WindowStore<String, Long> eventIds;
    private KeyValueStore<String, Long> contentOnKey;
    private ReadOnlyKeyValueStore<String, byte[]> contentByGuid;
    private KeyValueStore<String, byte[]> parked;
    private KeyValueStore<String, Long> parkedKeys;
    private KeyValueStore<String, Long> liveBodies;
    /** The existing state's bodies are counted (checked once per task start, then remembered). */
    private boolean counted;
    /** The newest mark whose bodies are known to be in the content store: what it covers is decided. */
    private ChangesLog.Mark settled;
    /** Asked how far mailstream.changes has been read, no answer yet. */
    private CompletionStage<ChangesLog.Mark> reading;
    /** Answered; waiting for this task's probes to come back through the content store. */
    private ChangesLog.Mark probing;

    private byte[] probeToken;
    private int retriesWaiting;
    /** Why the last event that waits for mailstream.control waits, for the periodic warning; null if none. */
    private String awaitingControl;

    ChangeProcessor(
            List<TierRoute> tiers,
            AvroCodec<ChangeEvent> changes,
            AvroCodec<ControlEvent> control,
            MeterRegistry meters,
            ChangesLog log,
            RetryOperator retries) {
        this.tiers = tiers;
        this.changes = changes;
        this.control = control;
        this.meters = meters;
        this.log = log;
        this.retries = retries;
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
        this.liveBodies = context.getStateStore(MailstreamTopology.LIVE_BODIES_ON_KEY_STORE);
        this.counted = false;
        // A task started again may have lost an uncommitted round (its probes with it): start afresh.
        this.settled = null;
        this.reading = null;
        this.probing = null;
        context.schedule(MailstreamTopology.PARKED_RETRY_INTERVAL, PunctuationType.WALL_CLOCK_TIME, this::retryParked);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        countExistingState();
        Incoming event = Incoming.of(record, context.recordMetadata().orElseThrow());
        if (parkedKeys.get(keyOf(event)) != null) {
            publishAhead(event);
            park(event); // behind a parked event of its key
        } else if (!handle(event, false)) {
            park(event); // itself waiting for content, or for mailstream.control to judge it
        }
    }

    /**
     * Processes one event; false when it must wait for a body not indexed yet. With
     * {@code giveUp} a missing body is final (the log holds it nowhere) and the event is dead-lettered.
     *
     * <p>An error is {@link ErrorPolicy}'s to judge. One that may be the event's own (an
     * unexpected exception from the fold, e.g. a corrupt state value) is tried again at once, up to
     * {@code errors.retry.attempts} times, then dead-lettered: the fold is deterministic, so waiting
     * would change nothing but keep the task's transaction open. Once the event has started to
     * write (state, feeds), only aborting the transaction undoes that, so the error goes to the
     * thread (replaced, resuming from the last commit), as do passing causes and reasons to stop.
     */
    private boolean handle(Incoming incoming, boolean giveUp) {
        String culprit = incoming.topic() + "-" + incoming.partition() + "@" + incoming.offset();
        while (true) {
            String eventId = null;
            writing = false;
            try {
                ChangeEvent event = changes.decode(incoming.value());
                eventId = event.getEnvelope().getEventId();
                apply(incoming, event);
                if (retrying) {
                    retries.forget(culprit);
                    retrying = false;
                }
                return true;
            } catch (RuntimeException e) {
                if (!giveUp && e instanceof Rejection r && r.reason() == DeadLetterReason.MISSING_CONTENT) {
                    return false;
                }
                if (e instanceof Fencing.AwaitingControl waiting) {
                    awaitingControl = waiting.getMessage();
                    return false; // judged once mailstream.control says how; never dropped for being early
                }
                if (writing) {
                    ErrorPolicy.handle(ROLE, e);
                    throw e;
                }
                RetryOperator.Decision decision = retries.failed(culprit, e);
                retrying = !decision.giveUp();
                if (decision.giveUp()) {
                    if (decision.action() == ErrorPolicy.Action.DEAD_LETTER) ErrorPolicy.handle(ROLE, e);
                    deadLetter(
                            incoming,
                            e,
                            eventId,
                            e instanceof Rejection ? String.valueOf(e.getMessage()) : decision.detail());
                    return true;
                }
                if (decision.action() != ErrorPolicy.Action.RETRY_THEN_DEAD_LETTER) {
                    throw e; // a new stream thread resumes from the last commit, or the application stops
                }
            }
        }
    }

    /*
     * Parking. A body first seen under another key reaches the global GUID store only once that
     * key's task has read and committed it and the global store has read it back, which can be
     * after a record of this key referencing it is processed (different partitions have no order
     * between them, and a task can be far behind, e.g. after an outage). So a record whose body is
     * unknown waits, with every later event of its key behind it to keep the key's order, and is
     * retried every PARKED_RETRY_INTERVAL. Other keys are not held up. An event whose epoch
     * mailstream.control cannot judge yet (see Fencing) waits the same way, until it can.
     *
     * Whether the body can still come is judged by the log, never by the clock. Capture writes a
     * body before any record that references it, so it is in mailstream.changes before the record.
     * A round: ask the ChangesLog for a mark (where every partition ended) and wait until the
     * application has read and committed every partition up to it, so every body before the mark
     * has been published to the content topic; then send a probe to every content partition and
     * wait until all come back through the global store, which has then read every partition past
     * those bodies. A parked record the settled mark covers whose body is still missing has none
     * in the log: it is dead-lettered as MISSING_CONTENT. Rounds are in memory: after a restart the
     * first round covers everything parked before it. A body on a parked key is published at once
     * (publishAhead), so two keys waiting for each other's bodies cannot hold each other up.
     */

    private void park(Incoming event) {
        String key = keyOf(event);
        if (parkedKeys.get(key) == null) {
            parkedKeys.put(key, event.offset());
        }
        parked.put(parkedKey(key, event.offset()), event.toBytes());
    }

    private void retryParked(long now) {
        countExistingState();
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, Long> all = parkedKeys.all()) {
            all.forEachRemaining(kv -> keys.add(kv.key));
        }
        if (keys.isEmpty()) {
            awaitingControl = null;
            return;
        }
        meters.counter(MailstreamTopology.PARKED_CHECKS_METER).increment();
        advanceRound();
        int left = 0;
        for (String key : keys) {
            List<KeyValue<String, byte[]>> queue = new ArrayList<>();
            try (KeyValueIterator<String, byte[]> events =
                    parked.prefixScan(key + PARK_SEPARATOR, new StringSerializer())) {
                events.forEachRemaining(queue::add);
            }
            int done = 0;
            for (KeyValue<String, byte[]> entry : queue) {
                Incoming event = Incoming.fromBytes(entry.value);
                if (!handle(event, settled != null && settled.covers(event.partition(), event.offset()))) {
                    break;
                }
                parked.delete(entry.key);
                done++;
            }
            if (done == queue.size()) {
                parkedKeys.delete(key);
            } else {
                left += queue.size() - done;
            }
        }
        if (left > 0 && reading == null && probing == null) {
            reading = log.readToEnd();
            advanceRound(); // the answer may be there already
        }
        if (left > 0 && awaitingControl != null && retriesWaiting % RETRIES_BETWEEN_WARNINGS == 0) {
            LOG.warn("event(s) of task {} wait for mailstream.control: {}", context.taskId(), awaitingControl);
        }
        if (left > 0 && ++retriesWaiting % RETRIES_BETWEEN_WARNINGS == 0) {
            LOG.warn(
                    "{} event(s) of task {} wait for message bodies first seen under other keys: {}",
                    left,
                    context.taskId(),
                    probing != null
                            ? "waiting for the content index to catch up"
                            : "mailstream.changes is not yet read and committed up to where it ended on every partition");
        } else if (left == 0) {
            retriesWaiting = 0;
        }
    }

    /** One step of the current round, as far as the answers allow. */
    private void advanceRound() {
        if (probing != null && probesReturned()) {
            settled = probing;
            probing = null;
        }
        if (reading != null && reading.toCompletableFuture().isDone()) {
            CompletableFuture<ChangesLog.Mark> answer = reading.toCompletableFuture();
            reading = null;
            try {
                sendProbes(answer.join());
            } catch (CompletionException | CancellationException e) {
                LOG.warn(
                        "task {}: cannot tell how far mailstream.changes has been read, parked events keep waiting: {}",
                        context.taskId(),
                        e.getCause() == null ? e : e.getCause());
            }
        }
    }

    private void sendProbes(ChangesLog.Mark mark) {
        probing = mark;
        probeToken = ByteBuffer.allocate(Long.BYTES)
                .putLong(ThreadLocalRandom.current().nextLong())
                .array();
        for (int c = 0; c < mark.contentPartitions(); c++) {
            context.forward(
                    new Record<>(
                            MailstreamTopology.probeKey(context.taskId().toString(), c),
                            probeToken,
                            context.currentSystemTimeMs()),
                    MailstreamTopology.CONTENT_SINK);
        }
    }

    private boolean probesReturned() {
        for (int c = 0; c < probing.contentPartitions(); c++) {
            if (!Arrays.equals(
                    probeToken,
                    contentByGuid.get(
                            MailstreamTopology.probeKey(context.taskId().toString(), c)))) {
                return false;
            }
        }
        return true;
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
            throw new Rejection(
                    DeadLetterReason.INVALID,
                    "record key '" + key + "' is not the envelope's partition key '" + envelope.getPartitionKey()
                            + "'");
        }
        fencing.check(envelope, record.partition(), record.offset());
        long time = record.timestamp();
        if (seenBefore(envelope.getEventId(), time)) {
            dropDuplicate();
            return;
        }
        Object payload = event.getPayload();
        ContentCopies copies = payload instanceof RecordsUpsert upsert ? contentFor(key, upsert) : ContentCopies.NONE;

        String stateKey = StateFold.stateKey(event);
        if (stateKey != null && StateFold.leavesKey(event)) {
            leave(stateKey, key, time);
        } else if (stateKey != null) {
            StateRecord current = state.get(stateKey);
            StateRecord next = CanonicalState.next(stateKey, current, event);
            if (next == null) {
                remember(envelope.getEventId(), time);
                dropDuplicate();
                return;
            }
            state.put(stateKey, next); // serializes before it writes: a value it cannot store is not written
            writing = true;
            countLiveBodies(current, next, time);
            if (CanonicalState.isPublishable(next)) {
                context.forward(new Record<>(stateKey, next, time), MailstreamTopology.STATE_SINK);
            }
        }
        writing = true;
        boolean isContent = payload instanceof MessageContent;
        for (TierRoute tier : tiers) {
            if (!tier.wants(key, envelope.getTier()) || (isContent && !tier.inlineContent())) {
                continue;
            }
            if (tier.inlineContent()) {
                forwardCopies(key, copies, envelope, time, tier);
            }
            byte[] value = record.value();
            if (payload instanceof MailboxRename r
                    && StateFold.leavesKey(event)
                    && !tier.wants(r.getNewPartitionKey(), envelope.getTier())) {
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
    private void leave(String stateKey, String key, long time) {
        StateRecord current = state.get(stateKey);
        if (current != null
                && current.getState() instanceof MailboxState m
                && m.getPartitionKey().equals(key)) {
            state.delete(stateKey);
            writing = true;
            countLiveBodies(current, null, time);
        }
    }

    /*
     * Bounding the content index. Per key, LIVE_BODIES_ON_KEY_STORE counts the live records (not
     * expunged, in a mailbox not deleted) of each body in the key's canonical state, from the
     * difference between a mailbox's state before and after each event. When a key's count of a
     * body goes from 0 to 1 the key tells ContentReferences (a record keyed <guid>|<key> in the
     * references topic, partitioned by GUID); when it drops to 0 it withdraws it (a tombstone)
     * and forgets that the key's feeds have the body, so that a later record of it on this key
     * sends the body along again. ContentReferences deletes a body no key references after the
     * grace. All of it commits with the event that caused it.
     */

    private void countLiveBodies(StateRecord before, StateRecord after, long time) {
        Map<String, Long> change = new LinkedHashMap<>();
        liveBodies(before, -1, change);
        liveBodies(after, 1, change);
        change.forEach((keyAndGuid, by) -> {
            if (by != 0) {
                adjustLiveBodies(keyAndGuid, by, time);
            }
        });
    }

    /** Adds {@code sign} per live record of each body in this mailbox state, under the key that owns the mailbox. */
    private static void liveBodies(StateRecord record, int sign, Map<String, Long> into) {
        if (record == null || !(record.getState() instanceof MailboxState m) || m.getDeleted()) {
            return;
        }
        for (MessageRecord r : m.getRecords()) {
            if (!StateFold.isExpunged(r)) {
                into.merge(contentKey(m.getPartitionKey(), r.getGuid()), (long) sign, Long::sum);
            }
        }
    }

    private void adjustLiveBodies(String keyAndGuid, long by, long time) {
        Long stored = liveBodies.get(keyAndGuid);
        long before = stored == null ? 0 : stored;
        long after = before + by;
        int bar = keyAndGuid.lastIndexOf('|');
        String key = keyAndGuid.substring(0, bar);
        String guid = keyAndGuid.substring(bar + 1);
        if (after > 0) {
            liveBodies.put(keyAndGuid, after);
            if (before == 0) {
                context.forward(
                        new Record<>(ContentReferences.referenceKey(guid, key), ContentReferences.REFERENCED, time),
                        MailstreamTopology.REFERENCES_SINK);
            }
            return;
        }
        if (after < 0) {
            LOG.warn(
                    "task {}: key {} had {} live record(s) of body {}, now {} fewer: the count is reset",
                    context.taskId(),
                    key,
                    before,
                    guid,
                    -by);
        }
        if (stored != null) {
            liveBodies.delete(keyAndGuid);
        }
        if (before > 0) {
            contentOnKey.delete(keyAndGuid);
            context.forward(
                    new Record<>(ContentReferences.referenceKey(guid, key), null, time),
                    MailstreamTopology.REFERENCES_SINK);
        }
    }

    /**
     * Once per task store: counts the bodies of the canonical state as it is (state written before
     * the counts existed) and tells ContentReferences, so that no body referenced only by older
     * state is ever taken for unreferenced. A marker in the count store says it is done.
     */
    private void countExistingState() {
        if (counted || liveBodies.get(COUNTED_MARKER) != null) {
            counted = true;
            return;
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        try (KeyValueIterator<String, StateRecord> all = state.all()) {
            all.forEachRemaining(kv -> liveBodies(kv.value, 1, counts));
        }
        long time = context.currentSystemTimeMs();
        counts.forEach((keyAndGuid, count) -> {
            if (count > 0 && liveBodies.get(keyAndGuid) == null) {
                adjustLiveBodies(keyAndGuid, count, time);
            }
        });
        liveBodies.put(COUNTED_MARKER, 1L);
        counted = true;
        if (!counts.isEmpty()) {
            LOG.info(
                    "task {}: counted {} bodies referenced by the existing canonical state",
                    context.taskId(),
                    counts.size());
        }
    }

    /**
     * A mailbox renamed to a key a tier does not take has, for that tier, been deleted: renamed
     * there it would put one user's mail under a user the tier must not hold.
     */
    private byte[] deleted(ChangeEvent event, MailboxRename rename) {
        Envelope envelope = Envelope.newBuilder(event.getEnvelope())
                .setEventId(event.getEnvelope().getEventId() + "/left-tier")
                .build();
        return changes.encode(new ChangeEvent(
                envelope,
                MailboxDelete.newBuilder()
                        .setUniqueId(rename.getUniqueId())
                        .setName(rename.getOldName())
                        .setUidValidity(rename.getUidValidity())
                        .build()));
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
                throw new Rejection(
                        DeadLetterReason.MISSING_CONTENT,
                        "mailbox " + upsert.getUniqueId() + " (" + upsert.getMailboxName() + ") references GUID " + guid
                                + " whose content is nowhere in mailstream.changes before it");
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
                MessageContent content =
                        (MessageContent) changes.decode(contentByGuid.get(MailstreamTopology.chunkKey(guid, i)))
                                .getPayload();
                Envelope copy = Envelope.newBuilder(envelope)
                        .setMailboxUniqueId(null)
                        .setEventId(envelope.getEventId() + "/content/" + guid + "/" + content.getChunkIndex())
                        .build();
                context.forward(
                        new Record<>(key, changes.encode(new ChangeEvent(copy, content)), time), tier.sinkName());
            }
        });
    }

    /**
     * Publishes a chunk to the global content store (for records of other keys) and, once the
     * last chunk is in, notes that this key's feeds already carry the body.
     */
    private void index(String key, MessageContent content, Incoming record) {
        publish(content, record);
        if (content.getChunkIndex() == content.getChunkCount() - 1) {
            contentOnKey.put(contentKey(key, content.getGuid()), content.getSize());
            // Registered even if no record ever references it, so that such a body is deleted too.
            context.forward(
                    new Record<>(
                            content.getGuid(),
                            ContentReferences.published(content.getChunkCount()),
                            record.timestamp()),
                    MailstreamTopology.REFERENCES_SINK);
        }
    }

    private void publish(MessageContent content, Incoming record) {
        context.forward(
                new Record<>(
                        MailstreamTopology.chunkKey(content.getGuid(), content.getChunkIndex()),
                        record.value(),
                        record.timestamp()),
                MailstreamTopology.CONTENT_SINK);
    }

    /**
     * A body that arrives on a parked key is published to the content store at once, although its
     * event waits its turn: records of other keys may be waiting for it, and a round counts every
     * body on a partition that was read past as published. (It is published again when its turn
     * comes; the topic is compacted.)
     */
    private void publishAhead(Incoming incoming) {
        ChangeEvent event;
        try {
            event = changes.decode(incoming.value());
            fencing.check(event.getEnvelope(), incoming.partition(), incoming.offset());
        } catch (RuntimeException e) {
            return; // judged, and dead-lettered if it must be, when its turn comes
        }
        if (event.getPayload() instanceof MessageContent content
                && event.getEnvelope().getPartitionKey().equals(incoming.key())) {
            publish(content, incoming);
        }
    }

    private static String contentKey(String partitionKey, String guid) {
        return partitionKey + "|" + guid;
    }

    private boolean seenBefore(String eventId, long time) {
        long retention = MailstreamTopology.EVENT_ID_RETENTION.toMillis();
        try (WindowStoreIterator<Long> hits =
                eventIds.fetch(eventId, Math.max(0, time - retention), time + retention)) {
            return hits.hasNext();
        }
    }

    private void remember(String eventId, long time) {
        eventIds.put(eventId, time, time);
    }

    private void dropDuplicate() {
        meters.counter(MailstreamTopology.DUPLICATES_METER).increment();
    }

    private void deadLetter(Incoming record, RuntimeException error, String eventId, String detail) {
        DeadLetterReason reason = reasonOf(error);
        meters.counter(MailstreamTopology.DEAD_LETTERS_METER, "reason", reason.name())
                .increment();
        DeadLetter letter = DeadLetters.of(
                reason,
                detail,
                record.topic(),
                record.partition(),
                record.offset(),
                record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8),
                record.value(),
                eventId,
                context.currentSystemTimeMs());
        context.forward(new Record<>(record.key(), letter, record.timestamp()), MailstreamTopology.DLQ_SINK);
    }

    private static DeadLetterReason reasonOf(RuntimeException error) {
        if (error instanceof Rejection rejection) {
            return rejection.reason();
        }
        if (error instanceof EventDecodingException decoding
                && decoding.problem() == EventDecodingException.Problem.UNKNOWN_SCHEMA) {
            return DeadLetterReason.UNKNOWN_SCHEMA;
        }
        return error instanceof SerializationException ? DeadLetterReason.UNDECODABLE : DeadLetterReason.INVALID;
    }
}
