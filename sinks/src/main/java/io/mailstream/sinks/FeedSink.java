package io.mailstream.sinks;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.errors.Backoff;
import io.mailstream.core.errors.ErrorPolicy;
import io.mailstream.core.errors.RetryOperator;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.DeadLetterReason;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.TierProgress;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.EventDecodingException;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.InvalidOffsetException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop every tier sink runs: consumes {@code mailstream.feed.<tier>} (read_committed, manual
 * commits), queues each partition key's events in order on a lane, applies lanes on
 * {@code tier.<name>.sessions} worker threads through a {@link TierTarget}, and commits per feed
 * partition the lowest offset the target has not confirmed yet. A key that is slow or retrying
 * holds back only its own lane (and the commit point of its partition, which is what makes a
 * restart resume where the target stopped); polling and other keys go on.
 *
 * <p>Threads: one poll thread owns the consumer, the lanes and the offset bookkeeping; workers only
 * run a lane's batch and hand the lane back through {@link #finished}.
 */
final class FeedSink implements SinkHandle {
    private static final Logger LOG = LoggerFactory.getLogger(FeedSink.class);
    private static final Duration POLL = Duration.ofMillis(200);
    /** Most events one apply gets, so that one busy user cannot build an unbounded batch. */
    private static final int MAX_BATCH_EVENTS = 500;

    private enum Outcome {
        DONE,
        ABANDONED,
        STOPPED
    }

    private final String tier;
    private final String role;
    private final String topic;
    private final TierTarget target;
    private final TierBackfill backfill;
    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final SchemaTopicRegistry schemas;
    private final AvroCodec<ChangeEvent> events;
    private final AvroCodec<TierProgress> progress;
    private final DeadLetterWriter dlq;
    private final RetryOperator retries;
    private final ExecutorService workers;
    private final Thread pollThread;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Counter applied;
    private final Timer applyLatency;
    private final PauseHook pauseHook = PauseHook.fromSystemProperties();
    /** Feed bytes held in memory (queued on lanes or being applied) at which fetching pauses. */
    private final long bufferLimit;

    private final Map<String, Lane> lanes = new HashMap<>();
    private final Map<TopicPartition, PartitionOffsets> partitions = new HashMap<>();
    private final LinkedBlockingQueue<Lane> finished = new LinkedBlockingQueue<>();
    /** Poll thread only: bytes of the events queued on lanes or being applied. */
    private long buffered;

    private boolean bufferFullLogged;
    private volatile boolean running = true;
    private volatile String failure;

    FeedSink(MailstreamConfig config, String bootstrapServers, String tier, TierTarget target, MeterRegistry metrics) {
        this(config, bootstrapServers, tier, target, null, metrics);
    }

    /** With {@code backfill} (null: none), run before the feed is consumed; it commits where the feed starts. */
    FeedSink(
            MailstreamConfig config,
            String bootstrapServers,
            String tier,
            TierTarget target,
            TierBackfill backfill,
            MeterRegistry metrics) {
        this.tier = tier;
        this.backfill = backfill;
        this.role = "sink " + tier;
        this.topic = Topics.feed(tier);
        this.target = target;
        int maxRecordBytes = config.get(ConfigKeys.KAFKA_MAX_RECORD_BYTES);
        Map<String, Object> producerProps = KafkaClients.producerProps(bootstrapServers, null, maxRecordBytes);
        producerProps.put(ProducerConfig.CLIENT_ID_CONFIG, "mailstream-sink-" + tier);
        this.schemas = new SchemaTopicRegistry(producerProps);
        this.events = AvroCodec.changeEvent(schemas);
        this.progress = AvroCodec.tierProgress(schemas);
        this.producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());
        Map<String, Object> consumerProps = KafkaClients.consumerProps(bootstrapServers, Topics.sinkGroup(tier));
        consumerProps.put(ConsumerConfig.CLIENT_ID_CONFIG, "mailstream-sink-" + tier);
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1000);
        // The backfill commits an offset for every partition; from then on an offset out of range
        // means retention deleted events this tier never applied: fail loudly, never skip them.
        if (backfill != null) consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        // A sink restarted after a crash gets its partitions only once the dead member's session
        // has expired: 10 s rather than Kafka's 45 s of a tier standing still.
        consumerProps.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        consumerProps.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000);
        this.consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        int sessions = config.get(ConfigKeys.TIER_SESSIONS, tier);
        this.bufferLimit = config.get(ConfigKeys.TIER_BUFFER_BYTES, tier);
        AtomicInteger n = new AtomicInteger();
        this.workers =
                Executors.newFixedThreadPool(sessions, r -> new Thread(r, "sink-" + tier + "-" + n.incrementAndGet()));
        this.applied = Counter.builder("mailstream.sink.events.applied")
                .tag("tier", tier)
                .description("Feed events the target confirmed")
                .register(metrics);
        this.dlq = new DeadLetterWriter(
                role,
                producer,
                AvroCodec.deadLetter(schemas),
                reason -> Counter.builder("mailstream.sink.events.deadlettered")
                        .tag("tier", tier)
                        .tag("reason", reason.name())
                        .description("Feed events written to mailstream.dlq instead of being applied")
                        .register(metrics));
        this.retries = new RetryOperator(role, RetryOperator.Settings.of(config), metrics);
        this.applyLatency = Timer.builder("mailstream.sink.apply.latency")
                .tag("tier", tier)
                .description("Time the target took to apply one key's batch")
                .register(metrics);
        this.pollThread = new Thread(this::run, "sink-" + tier + "-poll");
    }

    FeedSink start() {
        pollThread.start();
        return this;
    }

    @Override
    public String tier() {
        return tier;
    }

    @Override
    public boolean isRunning() {
        return stopped.getCount() > 0;
    }

    @Override
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    @Override
    public boolean awaitStop(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        running = false;
        stopping.countDown();
        if (Thread.currentThread() != pollThread) {
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- poll thread

    private void run() {
        LOG.info("{}: consuming {} as group {}", role, topic, Topics.sinkGroup(tier));
        try {
            if (!backfilled()) return;
            consumer.subscribe(List.of(topic), new Rebalance());
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
                    accept(record);
                }
                drainFinished();
                dispatch();
                commit();
                throttle();
                pauseHook.whenIdle(this::idle);
            }
        } catch (InvalidOffsetException e) {
            LOG.error(
                    "{}: {}: events this tier never applied are gone from {}; stopping: the next start backfills them from {}",
                    role,
                    e.getMessage(),
                    topic,
                    Topics.STATE);
            stop(e.toString());
        } catch (RuntimeException e) {
            // The consumer retries transient broker trouble itself; what escapes poll is not transient.
            ErrorPolicy.handle(role, e);
            stop(e.toString());
        } finally {
            shutdown();
        }
    }

    /** Runs the backfill (retried as the policy says) before the feed; false if the sink stops first. */
    private boolean backfilled() {
        Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60));
        while (running) {
            try {
                return backfill == null || backfill.run(() -> running);
            } catch (Exception e) {
                if (ErrorPolicy.handle(role + " backfill", e) == ErrorPolicy.Action.STOP) {
                    stop("backfill: " + e);
                    return false;
                }
                if (!pause(backoff.next())) return false;
            }
        }
        return false;
    }

    private void accept(ConsumerRecord<byte[], byte[]> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        ChangeEvent event;
        try {
            event = events.decode(record.value());
        } catch (EventDecodingException e) {
            DeadLetterReason reason = e.problem() == EventDecodingException.Problem.UNKNOWN_SCHEMA
                    ? DeadLetterReason.UNKNOWN_SCHEMA
                    : DeadLetterReason.UNDECODABLE;
            // Nothing to apply: the offset counts as done once the DLQ holds the bytes, and not before.
            if (!deadLetterUntilWritten(record, reason, e.getMessage())) {
                partitions
                        .computeIfAbsent(tp, p -> new PartitionOffsets())
                        .unconfirmed
                        .add(record.offset());
            }
            return;
        }
        FeedEvent fe = new FeedEvent(tp, record.offset(), event, record);
        partitions.computeIfAbsent(tp, p -> new PartitionOffsets()).unconfirmed.add(fe.offset);
        String key = event.getEnvelope().getPartitionKey();
        lanes.computeIfAbsent(key, k -> new Lane(k, tp)).pending.add(fe);
        buffered += fe.bytes();
    }

    /**
     * Hands each idle lane its next batch. A change is held back until its header has arrived only
     * while that header can still come: at the end of a partition (nothing more is there now) or
     * with the buffer full (fetching is paused, so waiting would deadlock) the part that is there
     * goes to the target, which holds it until the header; its offsets stay uncommitted meanwhile
     * ({@link #confirm}), so a change larger than the buffer passes in pieces.
     */
    private void dispatch() {
        boolean full = buffered >= bufferLimit;
        Map<TopicPartition, Boolean> drained = new HashMap<>();
        for (Lane lane : lanes.values()) {
            if (lane.busy) continue;
            boolean wholeChanges = target.needsWholeMailboxChanges()
                    && !full
                    && !drained.computeIfAbsent(
                            lane.tp, tp -> consumer.currentLag(tp).orElse(0) == 0);
            int ready = readyCount(lane.pending, wholeChanges);
            if (ready == 0) continue;
            List<FeedEvent> batch = new ArrayList<>(ready);
            for (int i = 0; i < ready; i++) batch.add(lane.pending.poll());
            lane.inFlight = batch;
            lane.busy = true;
            lane.abandoned = false;
            workers.execute(() -> {
                lane.outcome = applyWithPolicy(lane, batch);
                finished.add(lane);
            });
        }
    }

    /**
     * How many queued events the next batch takes: up to about {@link #MAX_BATCH_EVENTS}, ending at a
     * commit point if {@code wholeChanges} (a change is never cut in two).
     */
    private static int readyCount(ArrayDeque<FeedEvent> pending, boolean wholeChanges) {
        int ready = 0;
        int i = 0;
        for (FeedEvent fe : pending) {
            i++;
            if (!wholeChanges || fe.isCommitPoint()) {
                ready = i;
                if (ready >= MAX_BATCH_EVENTS) break;
            }
        }
        return ready;
    }

    /** The batch cut into the smallest pieces the target accepts: single events, or whole mailbox changes. */
    private List<List<FeedEvent>> pieces(List<FeedEvent> batch) {
        List<List<FeedEvent>> pieces = new ArrayList<>();
        List<FeedEvent> piece = new ArrayList<>();
        for (FeedEvent fe : batch) {
            piece.add(fe);
            if (!target.needsWholeMailboxChanges() || fe.isCommitPoint()) {
                pieces.add(piece);
                piece = new ArrayList<>();
            }
        }
        if (!piece.isEmpty()) pieces.add(piece);
        return pieces;
    }

    private void drainFinished() {
        for (Lane lane; (lane = finished.poll()) != null; ) {
            lane.busy = false;
            for (FeedEvent fe : lane.inFlight) buffered -= fe.bytes();
            PartitionOffsets offsets = partitions.get(lane.tp);
            // An abandoned lane's partition was revoked: its events belong to another consumer now.
            // A batch not DONE stays unconfirmed: the sink is stopping and the events come again.
            if (offsets != null && !lane.abandoned && lane.outcome == Outcome.DONE) confirm(lane, offsets);
            lane.inFlight = List.of();
            if (lane.pending.isEmpty() && lane.open.isEmpty()) lanes.remove(lane.key);
        }
    }

    /**
     * Counts a batch the target applied as done, except its open tail: the events after its last
     * commit point belong to a change whose header has not arrived, which a target that needs
     * whole changes holds only in memory (a Cyrus replica cannot take records without their APPLY
     * MAILBOX). They stay unconfirmed, so the committed offset does not pass them and a restart
     * delivers them again for the target to rebuild what it held. The lane's next commit point
     * confirms them: capture writes one APPLY per transaction, each key's in order, so a later
     * header of the same key ends every change begun before it (one that never gets its header,
     * e.g. a redelivered fragment, stays uncommitted until the key's next change).
     */
    private void confirm(Lane lane, PartitionOffsets offsets) {
        List<FeedEvent> batch = lane.inFlight;
        int end = batch.size();
        if (target.needsWholeMailboxChanges()) {
            while (end > 0 && !batch.get(end - 1).isCommitPoint()) end--;
        }
        if (end > 0) {
            lane.open.forEach(offsets.unconfirmed::remove);
            lane.open.clear();
        }
        for (int i = 0; i < batch.size(); i++) {
            if (i < end) offsets.unconfirmed.remove(batch.get(i).offset);
            else lane.open.add(batch.get(i).offset);
        }
    }

    private void commit() {
        Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
        partitions.forEach((tp, offsets) -> {
            long position = offsets.commitPosition(consumer.position(tp));
            if (position > offsets.committed) commits.put(tp, new OffsetAndMetadata(position));
        });
        if (commits.isEmpty()) return;
        try {
            consumer.commitSync(commits);
            commits.forEach((tp, om) -> partitions.get(tp).committed = om.offset());
        } catch (KafkaException e) {
            // Not fatal: uncommitted events come again and the target applies them idempotently.
            ErrorPolicy.handle(role + " commit", e);
        }
    }

    /**
     * Stops fetching while the events in memory (queued behind a busy lane, waiting for their
     * header, or being applied) reach {@code tier.<name>.buffer.bytes}, so that a replica outage
     * or a huge folder holds the backlog in Kafka, not in the heap.
     */
    private void throttle() {
        if (buffered >= bufferLimit) {
            List<TopicPartition> pause = new ArrayList<>(consumer.assignment());
            pause.removeAll(consumer.paused());
            if (pause.isEmpty()) return;
            consumer.pause(pause);
            // Once at INFO (it says the limit works and what it is); it may recur every few polls.
            if (!bufferFullLogged) {
                bufferFullLogged = true;
                LOG.info(
                        "{}: {} bytes of feed events in memory reached tier.{}.buffer.bytes ({}): fetching paused until applies catch up",
                        role,
                        buffered,
                        tier,
                        bufferLimit);
            } else {
                LOG.debug("{}: buffer full ({} bytes): fetching paused", role, buffered);
            }
        } else if (!consumer.paused().isEmpty()) {
            consumer.resume(consumer.paused());
        }
    }

    /** Nothing queued or being applied, every assigned partition read to its end, and committed as far as it may be. */
    private boolean idle() {
        if (!finished.isEmpty() || consumer.assignment().isEmpty()) return false;
        for (Lane lane : lanes.values()) {
            if (lane.busy || !lane.pending.isEmpty()) return false;
        }
        for (TopicPartition tp : consumer.assignment()) {
            if (consumer.currentLag(tp).orElse(1) != 0) return false;
            PartitionOffsets offsets = partitions.get(tp);
            if (offsets != null && offsets.commitPosition(consumer.position(tp)) != offsets.committed) return false;
        }
        return true;
    }

    private void shutdown() {
        running = false;
        workers.shutdown();
        try {
            if (!workers.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("{}: applies still running after 60 s; their events will come again", role);
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            drainFinished();
            commit();
        } catch (RuntimeException e) {
            ErrorPolicy.handle(role + " final commit", e);
        }
        closeQuietly(consumer);
        closeQuietly(producer);
        closeQuietly(schemas);
        closeQuietly(target);
        LOG.info("{}: stopped{}", role, failure == null ? "" : ": " + failure);
        stopped.countDown();
    }

    private void stop(String reason) {
        if (failure == null) failure = reason;
        running = false;
        stopping.countDown();
    }

    /** Waits out a back-off, cut short by a stop; false if the sink is stopping. */
    private boolean pause(Duration backoff) {
        try {
            return !stopping.await(backoff.toMillis(), TimeUnit.MILLISECONDS) && running;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            drainFinished();
            commit();
            forget(revoked);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            forget(lost);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {}

        /** Another consumer owns these now: drop their queued events and let running applies end without confirming. */
        private void forget(Collection<TopicPartition> gone) {
            for (Iterator<Lane> it = lanes.values().iterator(); it.hasNext(); ) {
                Lane lane = it.next();
                if (!gone.contains(lane.tp)) continue;
                for (FeedEvent fe : lane.pending) buffered -= fe.bytes();
                lane.pending.clear();
                lane.open.clear();
                if (lane.busy) lane.abandoned = true;
                else it.remove();
            }
            gone.forEach(partitions::remove);
        }
    }

    // ---------------------------------------------------------------- worker threads

    /**
     * Applies a batch until the target confirms it or the policy says otherwise ({@link RetryOperator}):
     * a passing cause is retried with capped back-off for as long as it lasts; an error that may be
     * the batch's own first narrows it down, applying the batch again piece by piece (events are
     * idempotent), and the one piece that keeps failing is dead-lettered after
     * {@code errors.retry.attempts}, so its user's later events go on.
     */
    private Outcome applyWithPolicy(Lane lane, List<FeedEvent> batch) {
        String culprit = lane.key + " at " + batch.get(0).tp + "@" + batch.get(0).offset + ".."
                + batch.get(batch.size() - 1).offset;
        Backoff dlqDown = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(30));
        while (true) {
            if (!running || lane.abandoned) {
                retries.forget(culprit);
                return Outcome.ABANDONED;
            }
            Duration backoff;
            try {
                apply(lane.key, batch);
                retries.forget(culprit);
                return Outcome.DONE;
            } catch (Exception e) {
                RetryOperator.Decision decision = retries.failed(culprit, e);
                if (decision.action() == ErrorPolicy.Action.STOP) {
                    stop("applying " + lane.key + ": " + e);
                    return Outcome.STOPPED;
                }
                List<List<FeedEvent>> pieces = pieces(batch);
                boolean theBatchsOwn = decision.action() == ErrorPolicy.Action.DEAD_LETTER
                        || decision.action() == ErrorPolicy.Action.RETRY_THEN_DEAD_LETTER;
                if (theBatchsOwn && pieces.size() > 1) {
                    retries.forget(culprit);
                    for (List<FeedEvent> piece : pieces) {
                        Outcome outcome = applyWithPolicy(lane, piece);
                        if (outcome != Outcome.DONE) return outcome;
                    }
                    return Outcome.DONE;
                }
                if (decision.giveUp()) {
                    if (deadLetterAll(lane.key, batch, decision.detail())) return Outcome.DONE;
                    backoff = dlqDown.next(); // try again once the DLQ takes writes
                } else {
                    backoff = decision.backoff();
                }
            }
            if (!pause(backoff)) return Outcome.ABANDONED;
        }
    }

    /**
     * The culprit: one event, or one mailbox change the target takes only whole. The target hears of
     * it first, so that it can mark what to complete later. False if that or the DLQ fails.
     */
    private boolean deadLetterAll(String key, List<FeedEvent> culprit, String detail) {
        try {
            target.deadLettered(key, culprit.stream().map(FeedEvent::event).toList());
        } catch (Exception e) {
            ErrorPolicy.handle(role + " dead-letter mark", e);
            return false;
        }
        try {
            for (FeedEvent fe : culprit) {
                dlq.write(fe.record, fe.event.getEnvelope().getEventId(), DeadLetterReason.INVALID, detail);
            }
            return true;
        } catch (RuntimeException dlqDown) {
            ErrorPolicy.handle(role + " dlq", dlqDown);
            return false;
        }
    }

    private void apply(String key, List<FeedEvent> batch) throws Exception {
        List<ChangeEvent> changes = batch.stream().map(FeedEvent::event).toList();
        pauseHook.beforeApply();
        long t0 = System.nanoTime();
        Applied result = target.apply(key, changes);
        applyLatency.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        pauseHook.afterApply(changes.size());
        applied.increment(changes.size());
        publishProgress(key, batch.get(batch.size() - 1), result);
    }

    /** Progress is informational (status, lag); a lost record is replaced by the next one, so it is not awaited. */
    private void publishProgress(String key, FeedEvent last, Applied result) {
        var envelope = last.event.getEnvelope();
        TierProgress record = TierProgress.newBuilder()
                .setTier(tier)
                .setPartitionKey(key)
                .setFeedPartition(last.tp.partition())
                .setFeedOffset(last.offset + 1)
                .setLastEventId(envelope.getEventId())
                .setLastSequence(envelope.getSequence())
                .setLastCaptureTime(envelope.getCaptureTime())
                .setAppliedTime(System.currentTimeMillis())
                .setMailboxSyncCrcs(new HashMap<>(result.mailboxSyncCrcs()))
                .build();
        producer.send(
                new ProducerRecord<>(Topics.PROGRESS, utf8(Topics.progressKey(tier, key)), progress.encode(record)),
                (meta, error) -> {
                    if (error != null) ErrorPolicy.handle(role + " progress", error);
                });
    }

    /** True once written; false if the sink is stopping first. */
    private boolean deadLetterUntilWritten(
            ConsumerRecord<byte[], byte[]> record, DeadLetterReason reason, String detail) {
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10));
        while (running) {
            try {
                dlq.write(record, null, reason, detail);
                return true;
            } catch (RuntimeException e) {
                if (ErrorPolicy.handle(role + " dlq", e) == ErrorPolicy.Action.STOP) throw e;
                if (!pause(backoff.next())) return false;
            }
        }
        return false;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("{}: closing {}: {}", role, c.getClass().getSimpleName(), e.toString());
        }
    }

    // ---------------------------------------------------------------- bookkeeping

    private record FeedEvent(TopicPartition tp, long offset, ChangeEvent event, ConsumerRecord<byte[], byte[]> record) {
        long bytes() {
            return record.serializedValueSize();
        }

        /** Not part of an unfinished mailbox change: capture sends content, then records, then the header that commits them. */
        boolean isCommitPoint() {
            Object payload = event.getPayload();
            return !(payload instanceof MessageContent) && !(payload instanceof RecordsUpsert);
        }
    }

    /** One partition key's queue; at most one batch of it is being applied at any time. */
    private static final class Lane {
        final String key;
        final TopicPartition tp;
        final ArrayDeque<FeedEvent> pending = new ArrayDeque<>();
        /** Offsets of an applied change still waiting for its header: see {@link FeedSink#confirm}. */
        final List<Long> open = new ArrayList<>();

        List<FeedEvent> inFlight = List.of();
        boolean busy;
        volatile boolean abandoned;
        volatile Outcome outcome;

        Lane(String key, TopicPartition tp) {
            this.key = key;
            this.tp = tp;
        }
    }

    /** Offsets of one feed partition that were fetched but not yet confirmed by the target. */
    private static final class PartitionOffsets {
        final TreeSet<Long> unconfirmed = new TreeSet<>();
        long committed = -1;

        /** Everything before the lowest unconfirmed offset is done; with none, everything up to the position. */
        long commitPosition(long position) {
            return unconfirmed.isEmpty() ? position : unconfirmed.first();
        }
    }
}
