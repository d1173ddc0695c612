package io.mailstream.cli.web;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.control.ControlTopic;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.PrimaryAssignment;
import io.mailstream.schemas.TierRole;
import io.mailstream.schemas.TierRoleChange;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.ChangeEventJson;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.mailstream.streams.StatusReport;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the cluster's status every {@code status.refresh.seconds} on one thread: each tier's lag
 * ({@link StatusReport#lag}, as {@code mailstream status} computes it), roles and epochs from
 * {@code mailstream.control}, the dead letters in {@code mailstream.dlq} by reason, and the newest
 * events of {@code mailstream.changes}. Keeps the last hour of lag for the status page's chart and
 * publishes the latest values as {@code mailstream.tier.*}, {@code mailstream.control.*} and
 * {@code mailstream.dlq.*} gauges. A read that fails keeps the previous values and says why.
 */
public final class StatusSampler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StatusSampler.class);
    static final Duration HISTORY = Duration.ofHours(1);
    private static final int RECENT_CHANGES = 25;
    private static final int RECENT_DEAD_LETTERS = 25;
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    /** One tier as the page shows it. {@code type} is null when the configuration does not name it (dashboard on a bare cluster). */
    public record TierView(
            String tier, String type, String role, long epoch, long eventsBehind, Double secondsBehind) {}

    /** One point of the lag chart. */
    public record LagPoint(long time, Map<String, Long> eventsBehind, Map<String, Double> secondsBehind) {}

    /** A dead letter without its payload. */
    public record DeadLetterView(
            long time, String reason, String detail, String sourceTopic, int sourcePartition, long sourceOffset) {}

    /** The latest reading; {@code error} says why the last read failed (the rest is then from the read before). */
    public record Snapshot(
            long time,
            String site,
            Map<String, Object> primary,
            List<TierView> tiers,
            Map<String, Long> deadLettersByReason,
            List<DeadLetterView> recentDeadLetters,
            List<String> recentChanges,
            String error) {}

    private final MailstreamConfig config;
    private final String bootstrapServers;
    private final Set<String> typedTiers;
    private final MeterRegistry metrics;
    private final Duration interval;
    private final ScheduledExecutorService thread;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final Deque<LagPoint> history = new ArrayDeque<>();
    private final Map<String, AtomicLong> deadLettersByReason = new ConcurrentHashMap<>();
    private final Deque<DeadLetterView> recentDeadLetters = new ArrayDeque<>();
    private final AtomicLong primaryEpoch = new AtomicLong();
    private volatile Snapshot latest;
    private volatile List<TierView> tiers = List.of();
    private List<String> recentChanges = List.of();
    private String lastLoggedError;

    private SchemaTopicRegistry schemas;
    private KafkaConsumer<String, byte[]> dlqConsumer;
    private KafkaConsumer<String, byte[]> changesConsumer;

    /**
     * @param typedTiers tiers whose {@code tier.<name>.type} the configuration sets (all of them for
     *     {@code run}; none for a dashboard that found the tiers by their feed topics)
     */
    public StatusSampler(
            MailstreamConfig config, String bootstrapServers, Set<String> typedTiers, MeterRegistry metrics) {
        this.config = config;
        this.bootstrapServers = bootstrapServers;
        this.typedTiers = Set.copyOf(typedTiers);
        this.metrics = metrics;
        this.interval = Duration.ofSeconds(Math.max(1, config.get(ConfigKeys.STATUS_REFRESH_SECONDS)));
        this.latest = new Snapshot(
                System.currentTimeMillis(),
                config.get(ConfigKeys.SITE),
                null,
                List.of(),
                Map.of(),
                List.of(),
                List.of(),
                "no reading yet");
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "status-sampler");
            t.setDaemon(true);
            return t;
        });
        registerGauges();
    }

    public StatusSampler start() {
        thread.scheduleWithFixedDelay(this::sampleQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    public Duration interval() {
        return interval;
    }

    public Snapshot latest() {
        return latest;
    }

    /** The lag chart's points, oldest first, covering at most the last hour. */
    public List<LagPoint> history() {
        synchronized (history) {
            return new ArrayList<>(history);
        }
    }

    private void registerGauges() {
        for (String tier : config.tiers()) {
            meters.add(Gauge.builder(
                            "mailstream.tier.lag.events",
                            this,
                            s -> s.tier(tier)
                                    .map(t -> (double) t.eventsBehind())
                                    .orElse(Double.NaN))
                    .tag("tier", tier)
                    .description("Feed events the tier's sink has not committed yet")
                    .register(metrics));
            meters.add(Gauge.builder(
                            "mailstream.tier.lag.seconds",
                            this,
                            s -> s.tier(tier)
                                    .map(t -> t.secondsBehind() == null ? Double.NaN : t.secondsBehind())
                                    .orElse(Double.NaN))
                    .tag("tier", tier)
                    .description("Capture time of the newest change minus that of the newest change the tier applied")
                    .register(metrics));
            meters.add(Gauge.builder(
                            "mailstream.tier.epoch",
                            this,
                            s -> s.tier(tier).map(t -> (double) t.epoch()).orElse(Double.NaN))
                    .tag("tier", tier)
                    .description("Epoch of the tier's role in mailstream.control")
                    .register(metrics));
            for (TierRole role : TierRole.values()) {
                String name = role.name().toLowerCase();
                meters.add(Gauge.builder(
                                "mailstream.tier.role",
                                this,
                                s -> s.tier(tier)
                                        .map(t -> t.role().equals(name) ? 1.0 : 0.0)
                                        .orElse(Double.NaN))
                        .tag("tier", tier)
                        .tag("role", name)
                        .description("1 for the tier's current role in mailstream.control")
                        .register(metrics));
            }
        }
        meters.add(Gauge.builder("mailstream.control.primary.epoch", primaryEpoch, AtomicLong::get)
                .description("Epoch of the primary of scope * in mailstream.control")
                .register(metrics));
    }

    private java.util.Optional<TierView> tier(String name) {
        return tiers.stream().filter(t -> t.tier().equals(name)).findFirst();
    }

    private void sampleQuietly() {
        try {
            sample();
            lastLoggedError = null;
        } catch (Exception e) {
            String why = e.getMessage() != null ? e.getMessage() : e.toString();
            latest = new Snapshot(
                    System.currentTimeMillis(),
                    latest.site(),
                    latest.primary(),
                    latest.tiers(),
                    latest.deadLettersByReason(),
                    latest.recentDeadLetters(),
                    latest.recentChanges(),
                    why);
            if (!why.equals(lastLoggedError)) {
                LOG.warn("status page: cannot read the cluster's status at {}: {}", bootstrapServers, why);
                lastLoggedError = why;
            }
        }
    }

    /** One reading; runs on the sampler thread only (the Kafka consumers are not thread-safe). */
    void sample() {
        openClients();
        StatusReport report = StatusReport.lag(config, bootstrapServers);
        Map<String, ControlEvent> control = new ControlTopic(bootstrapServers, schemas).readLatest();
        PrimaryAssignment all = control.get(ControlTopic.ALL_KEYS) != null
                        && control.get(ControlTopic.ALL_KEYS).getPayload() instanceof PrimaryAssignment a
                ? a
                : null;
        long epoch = all != null ? all.getEpoch() : 0;
        List<TierView> views = new ArrayList<>();
        Map<String, Long> events = new TreeMap<>();
        Map<String, Double> seconds = new TreeMap<>();
        for (StatusReport.TierStatus t : report.tiers()) {
            ControlEvent change = control.get(ControlTopic.tierKey(t.tier()));
            TierRoleChange role = change != null && change.getPayload() instanceof TierRoleChange r ? r : null;
            Double behind = t.secondsBehind().isPresent() ? t.secondsBehind().getAsDouble() : null;
            views.add(new TierView(
                    t.tier(),
                    typedTiers.contains(t.tier())
                            ? config.get(ConfigKeys.TIER_TYPE, t.tier()).name().toLowerCase()
                            : null,
                    (role != null ? role.getRole() : TierRole.REPLICA).name().toLowerCase(),
                    role != null ? role.getEpoch() : epoch,
                    t.eventsBehind(),
                    behind));
            events.put(t.tier(), t.eventsBehind());
            seconds.put(t.tier(), behind);
        }
        readDeadLetters();
        recentChanges = readRecentChanges();
        Map<String, Object> primaryView = null;
        if (all != null) {
            primaryView = new LinkedHashMap<>();
            primaryView.put("serverId", all.getServerId());
            primaryView.put("site", all.getSite());
            primaryView.put("epoch", all.getEpoch());
            primaryView.put("tier", all.getTier());
        }
        long now = report.at().toEpochMilli();
        tiers = List.copyOf(views);
        primaryEpoch.set(epoch);
        synchronized (history) {
            history.addLast(new LagPoint(now, events, seconds));
            while (!history.isEmpty() && history.peekFirst().time() < now - HISTORY.toMillis()) history.removeFirst();
        }
        Map<String, Long> byReason = new TreeMap<>();
        deadLettersByReason.forEach((reason, n) -> byReason.put(reason, n.get()));
        List<DeadLetterView> letters;
        synchronized (recentDeadLetters) {
            letters = new ArrayList<>(recentDeadLetters);
        }
        latest = new Snapshot(
                now, config.get(ConfigKeys.SITE), primaryView, tiers, byReason, letters, recentChanges, null);
    }

    private void openClients() {
        if (schemas != null) return;
        schemas = new SchemaTopicRegistry(KafkaClients.adminProps(bootstrapServers));
        dlqConsumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrapServers, null),
                new StringDeserializer(),
                new ByteArrayDeserializer());
        List<TopicPartition> dlq = partitions(dlqConsumer, Topics.DLQ);
        dlqConsumer.assign(dlq);
        dlqConsumer.seekToBeginning(dlq);
        changesConsumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrapServers, null),
                new StringDeserializer(),
                new ByteArrayDeserializer());
    }

    /** Reads the dead letters written since the last reading (the consumer keeps its position). */
    private void readDeadLetters() {
        AvroCodec<DeadLetter> codec = AvroCodec.deadLetter(schemas);
        Map<TopicPartition, Long> end = dlqConsumer.endOffsets(dlqConsumer.assignment(), READ_TIMEOUT);
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (end.entrySet().stream().anyMatch(e -> dlqConsumer.position(e.getKey()) < e.getValue())
                && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : dlqConsumer.poll(Duration.ofMillis(200))) {
                if (r.value() == null) continue;
                DeadLetterView letter;
                try {
                    DeadLetter d = codec.decode(r.value());
                    letter = new DeadLetterView(
                            d.getTime(),
                            d.getReason().name(),
                            d.getDetail(),
                            d.getSourceTopic(),
                            d.getSourcePartition(),
                            d.getSourceOffset());
                } catch (RuntimeException e) {
                    letter = new DeadLetterView(
                            r.timestamp(),
                            "UNREADABLE",
                            "cannot decode this dead letter: " + e.getMessage(),
                            r.topic(),
                            r.partition(),
                            r.offset());
                }
                countDeadLetter(letter.reason());
                synchronized (recentDeadLetters) {
                    recentDeadLetters.addFirst(letter);
                    while (recentDeadLetters.size() > RECENT_DEAD_LETTERS) recentDeadLetters.removeLast();
                }
            }
        }
    }

    private void countDeadLetter(String reason) {
        deadLettersByReason
                .computeIfAbsent(reason, r -> {
                    AtomicLong n = new AtomicLong();
                    meters.add(Gauge.builder("mailstream.dlq.letters", n, AtomicLong::get)
                            .tag("reason", r)
                            .description("Records in mailstream.dlq, by reason")
                            .register(metrics));
                    return n;
                })
                .incrementAndGet();
    }

    /** The newest events of mailstream.changes, newest first, as {@code mailstream events} prints them. */
    private List<String> readRecentChanges() {
        List<TopicPartition> parts = partitions(changesConsumer, Topics.CHANGES);
        changesConsumer.assign(parts);
        Map<TopicPartition, Long> start = changesConsumer.beginningOffsets(parts, READ_TIMEOUT);
        Map<TopicPartition, Long> end = changesConsumer.endOffsets(parts, READ_TIMEOUT);
        for (TopicPartition p : parts) {
            // Transaction markers take offsets too: read a little more than needed.
            changesConsumer.seek(p, Math.max(start.get(p), end.get(p) - 2L * RECENT_CHANGES));
        }
        AvroCodec<ChangeEvent> codec = AvroCodec.changeEvent(schemas);
        List<ChangeEvent> events = new ArrayList<>();
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (parts.stream().anyMatch(p -> changesConsumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : changesConsumer.poll(Duration.ofMillis(200))) {
                try {
                    if (r.value() != null) events.add(codec.decode(r.value()));
                } catch (RuntimeException e) {
                    // an undecodable event is streams' to dead-letter; the page shows what it can read
                }
            }
        }
        return events.stream()
                .sorted(Comparator.comparingLong(
                                (ChangeEvent e) -> e.getEnvelope().getCaptureTime())
                        .thenComparingLong(e -> e.getEnvelope().getSequence())
                        .reversed())
                .limit(RECENT_CHANGES)
                .map(ChangeEventJson::render)
                .toList();
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        return consumer.partitionsFor(topic, READ_TIMEOUT).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
    }

    @Override
    public void close() throws InterruptedException {
        thread.shutdownNow();
        thread.awaitTermination(30, TimeUnit.SECONDS);
        meters.forEach(metrics::remove);
        for (AutoCloseable c : new AutoCloseable[] {dlqConsumer, changesConsumer, schemas}) {
            try {
                if (c != null) c.close();
            } catch (Exception e) {
                LOG.debug("status page: closing {}", c, e);
            }
        }
    }
}
