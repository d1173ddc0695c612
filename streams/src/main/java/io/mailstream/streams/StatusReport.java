package io.mailstream.streams;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.KafkaUnavailableException;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.TierProgress;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * How far each tier is from the canonical state, for {@code mailstream status}: events not yet
 * consumed by the tier's sink, how old the newest applied change is compared with the newest
 * captured one, and which mailboxes the tier reports with a SYNC_CRC other than the canonical one.
 */
public final class StatusReport {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** Records read back from the end of each changes partition to find the newest capture time (transaction markers take offsets too). */
    private static final int CHANGES_TAIL = 16;

    /**
     * One tier's distance from the canonical state.
     *
     * @param eventsBehind feed offsets not yet committed by the sink's group {@link Topics#sinkGroup}
     *     (transaction markers occupy offsets too, so this may overstate by a few per partition)
     * @param secondsBehind capture time of the newest change minus that of the newest change the
     *     tier applied; empty when the tier has reported no progress yet
     * @param differingMailboxes "uniqueid (name): canonical X, tier Y" for each mailbox whose
     *     SYNC_CRC as the tier reported it differs from the canonical state's
     * @param unreportedMailboxes mailboxes the tier receives and has reported no SYNC_CRC for
     */
    public record TierStatus(
            String tier,
            long eventsBehind,
            OptionalDouble secondsBehind,
            List<String> differingMailboxes,
            int unreportedMailboxes) {}

    private final Instant at;
    private final List<TierStatus> tiers;

    private StatusReport(Instant at, List<TierStatus> tiers) {
        this.at = at;
        this.tiers = List.copyOf(tiers);
    }

    public static StatusReport compute(MailstreamConfig config, String bootstrapServers) {
        return compute(config, bootstrapServers, Clock.systemUTC());
    }

    public static StatusReport compute(MailstreamConfig config, String bootstrapServers, Clock clock) {
        return compute(config, bootstrapServers, clock, true);
    }

    /**
     * Lag only: events and seconds behind per tier, without reading {@code mailstream.state} to
     * compare SYNC_CRCs (no differing or unreported mailboxes), cheap enough to repeat every few
     * seconds for the status page and the lag metrics.
     */
    public static StatusReport lag(MailstreamConfig config, String bootstrapServers) {
        return compute(config, bootstrapServers, Clock.systemUTC(), false);
    }

    private static StatusReport compute(
            MailstreamConfig config, String bootstrapServers, Clock clock, boolean compareMailboxes) {
        try (SchemaTopicRegistry schemas = new SchemaTopicRegistry(KafkaClients.common(bootstrapServers));
                Admin admin = Admin.create(KafkaClients.adminProps(bootstrapServers));
                KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                        KafkaClients.consumerProps(bootstrapServers, null),
                        new StringDeserializer(),
                        new ByteArrayDeserializer())) {
            AvroCodec<TierProgress> progressCodec = AvroCodec.tierProgress(schemas);
            AvroCodec<StateRecord> stateCodec = AvroCodec.stateRecord(schemas);
            AvroCodec<ChangeEvent> changeCodec = AvroCodec.changeEvent(schemas);

            Map<String, TierProgress> progress = new HashMap<>();
            readToEnd(consumer, Topics.PROGRESS, 0, r -> {
                if (r.value() == null) progress.remove(r.key());
                else progress.put(r.key(), progressCodec.decode(r.value()));
            });
            Map<String, MailboxState> mailboxes = new TreeMap<>();
            if (compareMailboxes)
                readToEnd(consumer, Topics.STATE, 0, r -> {
                    if (r.value() != null && stateCodec.decode(r.value()).getState() instanceof MailboxState m)
                        mailboxes.put(r.key(), m);
                });
            long[] newestCapture = {Long.MIN_VALUE};
            readToEnd(consumer, Topics.CHANGES, CHANGES_TAIL, r -> {
                try {
                    newestCapture[0] = Math.max(
                            newestCapture[0],
                            changeCodec.decode(r.value()).getEnvelope().getCaptureTime());
                } catch (SerializationException e) {
                    // an undecodable event says nothing about capture time; streams dead-letters it
                }
            });

            List<TierStatus> statuses = new ArrayList<>();
            for (TierRoute route : TierRoute.all(config)) {
                List<TierProgress> reports = progress.values().stream()
                        .filter(p -> p.getTier().equals(route.tier()))
                        .toList();
                statuses.add(status(
                        route, reports, mailboxes.values(), eventsBehind(admin, consumer, route), newestCapture[0]));
            }
            return new StatusReport(clock.instant(), statuses);
        }
    }

    public Instant at() {
        return at;
    }

    public List<TierStatus> tiers() {
        return tiers;
    }

    /** The report as {@code mailstream status} prints it. */
    public String render() {
        StringBuilder out =
                new StringBuilder("mailstream status at ").append(at).append('\n');
        if (tiers.isEmpty()) {
            out.append("  no tiers configured\n");
        }
        for (TierStatus t : tiers) {
            out.append(String.format(
                    "  tier %s: %d events behind, %s, %s%n",
                    t.tier(),
                    t.eventsBehind(),
                    t.secondsBehind().isPresent()
                            ? String.format("%.1f s behind", t.secondsBehind().getAsDouble())
                            : "no progress reported yet",
                    t.differingMailboxes().isEmpty()
                            ? "no SYNC_CRC differences"
                            : t.differingMailboxes().size() + " mailboxes differ in SYNC_CRC"));
            if (t.unreportedMailboxes() > 0) {
                out.append(String.format(
                        "    %d mailboxes without a SYNC_CRC from the tier yet%n", t.unreportedMailboxes()));
            }
            t.differingMailboxes()
                    .forEach(m -> out.append("    differs: ").append(m).append('\n'));
        }
        return out.toString();
    }

    private static long eventsBehind(Admin admin, KafkaConsumer<String, byte[]> consumer, TierRoute route) {
        List<TopicPartition> partitions = partitions(consumer, route.feedTopic());
        Map<TopicPartition, OffsetSpec> latest =
                partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()));
        Map<TopicPartition, OffsetSpec> earliest =
                partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.earliest()));
        ListOffsetsOptions committedOnly = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
        Map<TopicPartition, ListOffsetsResultInfo> end =
                await(admin.listOffsets(latest, committedOnly).all());
        Map<TopicPartition, ListOffsetsResultInfo> start =
                await(admin.listOffsets(earliest, committedOnly).all());
        Map<TopicPartition, OffsetAndMetadata> committed = await(
                admin.listConsumerGroupOffsets(Topics.sinkGroup(route.tier())).partitionsToOffsetAndMetadata());
        long behind = 0;
        for (TopicPartition p : partitions) {
            OffsetAndMetadata done = committed.get(p);
            long from = done != null ? done.offset() : start.get(p).offset();
            behind += Math.max(0, end.get(p).offset() - from);
        }
        return behind;
    }

    private static OptionalDouble secondsBehind(List<TierProgress> reports, long newestCapture) {
        return reports.stream().mapToLong(TierProgress::getLastCaptureTime).max().stream()
                .mapToDouble(applied -> Math.max(0, newestCapture - applied) / 1000.0)
                .findFirst();
    }

    /** Compares the SYNC_CRC the tier last reported for each mailbox it receives with the canonical one. */
    private static TierStatus status(
            TierRoute route,
            List<TierProgress> reports,
            Collection<MailboxState> mailboxes,
            long eventsBehind,
            long newestCapture) {
        Map<String, Long> tierCrcs = new HashMap<>();
        reports.stream()
                .sorted(Comparator.comparingLong(TierProgress::getAppliedTime))
                .forEach(p -> tierCrcs.putAll(p.getMailboxSyncCrcs()));
        List<String> differing = new ArrayList<>();
        int unreported = 0;
        for (MailboxState m : mailboxes) {
            if (m.getDeleted()
                    || m.getHeader() == null
                    || m.getHeader().getSyncCrc() == 0
                    || !route.users().test(m.getPartitionKey())) {
                continue; // nothing to compare: gone, no header yet, CRC unknown, or not sent to this tier
            }
            Long crc = tierCrcs.get(m.getHeader().getUniqueId());
            if (crc == null) {
                unreported++;
            } else if (crc != m.getHeader().getSyncCrc()) {
                differing.add(m.getHeader().getUniqueId() + " (" + m.getHeader().getName() + "): canonical "
                        + m.getHeader().getSyncCrc() + ", tier " + crc);
            }
        }
        return new TierStatus(route.tier(), eventsBehind, secondsBehind(reports, newestCapture), differing, unreported);
    }

    /** Reads every partition of {@code topic} to its committed end, each from its start or from {@code tail} records before the end. */
    private static void readToEnd(
            KafkaConsumer<String, byte[]> consumer,
            String topic,
            int tail,
            Consumer<ConsumerRecord<String, byte[]>> sink) {
        List<TopicPartition> partitions = partitions(consumer, topic);
        consumer.assign(partitions);
        Map<TopicPartition, Long> start = consumer.beginningOffsets(partitions, TIMEOUT);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
        for (TopicPartition p : partitions) {
            consumer.seek(p, tail == 0 ? start.get(p) : Math.max(start.get(p), end.get(p) - tail));
        }
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
            if (System.nanoTime() > deadline) {
                throw new KafkaUnavailableException("timed out reading " + topic + " to its end", null);
            }
            consumer.poll(Duration.ofMillis(200)).forEach(sink);
        }
    }

    private static List<TopicPartition> partitions(KafkaConsumer<String, byte[]> consumer, String topic) {
        return consumer.partitionsFor(topic, TIMEOUT).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
    }

    private static <T> T await(org.apache.kafka.common.KafkaFuture<T> future) {
        try {
            return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new KafkaUnavailableException("cannot read offsets: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaUnavailableException("interrupted reading offsets", e);
        }
    }
}
