package io.mailstream.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.errors.FencedException;
import io.mailstream.core.errors.InvalidEventException;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.TopicReader;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.DeadLetterReason;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.TierProgress;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The feed loop and the store sink on a real (embedded KRaft) broker: the feed, offsets, progress and DLQ are Kafka's. */
class SinksOnBrokerTest {
    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static MailstreamConfig config;
    static final MailScript SCRIPT = MailScript.threeUsers();

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
        config = MailstreamConfig.of(Map.of(
                "tiers",
                "oob,crash,loop,poison",
                "kafka.max.record.bytes",
                "1048576",
                "tier.oob.type",
                "store",
                "tier.oob.store.dir",
                dir.resolve("oob").toString(),
                "tier.oob.sessions",
                "3",
                "tier.crash.type",
                "store",
                "tier.crash.store.dir",
                dir.resolve("crash").toString(),
                "tier.loop.type",
                "store",
                "tier.loop.sessions",
                "3",
                "tier.poison.type",
                "store"));
        TopicAdmin.ensureTopics(config, kafka.bootstrapServers());
        produceFeed("oob");
        produceFeed("crash");
        produceFeed("loop");
        produceFeed("poison");
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) kafka.close();
    }

    @Test
    void theStoreSinkFoldsTheFeedIntoTheStoreAndCommitsAndReportsWhatItApplied() throws Exception {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        try (SinkHandle sink = Sinks.start(config, kafka.bootstrapServers(), "oob", metrics)) {
            awaitCaughtUp("oob");
            assertThat(sink.isRunning()).isTrue();
        }
        StoreAssertions.assertHolds(StoreReader.open(dir.resolve("oob")), SCRIPT);
        assertThat(metrics.get("mailstream.sink.events.applied")
                        .tag("tier", "oob")
                        .counter()
                        .count())
                .isEqualTo(SCRIPT.events.size());
        assertThat(metrics.get("mailstream.sink.apply.latency").timer().count()).isPositive();

        Map<String, TierProgress> progress = new HashMap<>();
        AvroCodec<TierProgress> codec = AvroCodec.tierProgress(SchemaResolver.none());
        for (var r : readAll(Topics.PROGRESS))
            progress.put(new String(r.key(), StandardCharsets.UTF_8), codec.decode(r.value()));
        for (String user : List.of("alice", "bob", "carol")) {
            TierProgress p = progress.get(Topics.progressKey("oob", user));
            assertThat(p).as(user).isNotNull();
            // alice's last feed event is the late duplicate: progress reports it, with its old sequence.
            ChangeEvent last = SCRIPT.eventsOf(user).get(SCRIPT.eventsOf(user).size() - 1);
            assertThat(p.getLastEventId()).isEqualTo(last.getEnvelope().getEventId());
            assertThat(p.getLastSequence()).isEqualTo(last.getEnvelope().getSequence());
            assertThat(p.getAppliedTime()).isPositive();
        }

        assertThat(deadLetters("oob"))
                .singleElement()
                .satisfies(l -> assertThat(l.getReason()).isEqualTo(DeadLetterReason.UNDECODABLE));
    }

    /**
     * The loop's contract for any target (the Cyrus replica sink's too): each key in feed order,
     * one apply per key at a time, batches end at a mailbox change's header, a stuck key does not
     * hold up the others, RETRY loses nothing, DEAD_LETTER parks only the culprit change.
     */
    @Test
    void theFeedLoopAppliesKeysInOrderInParallelAndParksOnlyTheCulprit() throws Exception {
        ChangeEvent poison = SCRIPT.eventsOf("bob").stream()
                .filter(e -> e.getPayload() instanceof MailboxUpsert)
                .skip(1)
                .findFirst()
                .orElseThrow();
        RecordingTarget target = new RecordingTarget(poison.getEnvelope().getEventId());
        FeedSink sink =
                new FeedSink(config, kafka.bootstrapServers(), "loop", target, new SimpleMeterRegistry()).start();
        try {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(target.applied("carol")).hasSameSizeAs(SCRIPT.eventsOf("carol"));
                assertThat(target.applied("bob"))
                        .hasSizeGreaterThan(SCRIPT.eventsOf("bob").size() - 8);
            });
            assertThat(target.applied("alice"))
                    .as("alice is stuck in her first apply")
                    .isEmpty();
            target.aliceMayGo.countDown();
            // alice's feed ends with a duplicate chunk and no header after it: the target holds it
            // only in memory, so her partition's commit stays at it (a restart delivers it again).
            awaitCommittedUpToAlicesFragment("loop");
        } finally {
            target.aliceMayGo.countDown();
            sink.close();
        }
        assertThat(target.overlaps).as("two applies of one key at once").hasValue(0);
        // Only at the end of a partition may a batch end inside a change: there, alice's late duplicate chunk.
        assertThat(target.cutChanges)
                .as("batches ending inside a mailbox change")
                .isSubsetOf(SCRIPT.events.get(SCRIPT.events.size() - 2));
        assertThat(target.applied("alice")).containsExactlyElementsOf(SCRIPT.eventsOf("alice"));
        assertThat(target.applied("carol")).as("after the retry").containsExactlyElementsOf(SCRIPT.eventsOf("carol"));
        List<ChangeEvent> bob = SCRIPT.eventsOf("bob");
        int header = bob.indexOf(poison);
        int start = header;
        while (start > 0 && !isCommitPoint(bob.get(start - 1))) start--;
        List<ChangeEvent> culprit = bob.subList(start, header + 1);
        assertThat(culprit).as("content, record and header of one delivery").hasSizeGreaterThan(2);
        List<ChangeEvent> rest = new ArrayList<>(bob);
        rest.removeAll(culprit);
        assertThat(target.applied("bob")).containsExactlyElementsOf(rest);
        assertThat(deadLetters("loop"))
                .extracting(DeadLetter::getEventId)
                .containsExactlyElementsOf(StoreAssertions.eventIds(culprit));

        AvroCodec<TierProgress> codec = AvroCodec.tierProgress(SchemaResolver.none());
        List<TierProgress> bobProgress = readAll(Topics.PROGRESS).stream()
                .filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals(Topics.progressKey("loop", "bob")))
                .map(r -> codec.decode(r.value()))
                .toList();
        assertThat(bobProgress)
                .anySatisfy(p -> assertThat(p.getMailboxSyncCrcs()).containsEntry("bob-work", 7L));
    }

    /**
     * A target that fails one change with an error that will not pass by itself (here an
     * IllegalStateException) must not pin the user's lane: after the configured attempts the change
     * goes to mailstream.dlq with its reason, the user's later events apply in order, the other
     * users are applied in full, and every failed attempt is counted.
     */
    @Test
    void aChangeTheTargetKeepsFailingIsDeadLetteredAfterBoundedRetriesAndTheUserGoesOn() throws Exception {
        List<ChangeEvent> bob = SCRIPT.eventsOf("bob");
        ChangeEvent poison = bob.stream()
                .filter(e -> e.getPayload() instanceof MailboxUpsert)
                .skip(1)
                .findFirst()
                .orElseThrow();
        AtomicInteger poisonAttempts = new AtomicInteger();
        Map<String, List<ChangeEvent>> applied = new ConcurrentHashMap<>();
        TierTarget target = (key, events) -> {
            if (events.stream()
                    .anyMatch(e -> e.getEnvelope()
                            .getEventId()
                            .equals(poison.getEnvelope().getEventId()))) {
                poisonAttempts.incrementAndGet();
                throw new IllegalStateException("the target cannot apply this change");
            }
            applied.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).addAll(events);
            return Applied.withoutCrcs();
        };
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        MailstreamConfig bounded =
                config.with(Map.of("errors.retry.attempts", "3", "errors.retry.backoff.max.ms", "200"));
        FeedSink sink = new FeedSink(bounded, kafka.bootstrapServers(), "poison", target, metrics).start();
        try {
            awaitCommittedUpToAlicesFragment("poison");
        } finally {
            sink.close();
        }
        int header = bob.indexOf(poison);
        int start = header;
        while (start > 0 && !isCommitPoint(bob.get(start - 1))) start--;
        List<ChangeEvent> culprit = bob.subList(start, header + 1);
        List<ChangeEvent> rest = new ArrayList<>(bob);
        rest.removeAll(culprit);
        assertThat(applied.get("bob")).as("bob's other events, in order").containsExactlyElementsOf(rest);
        assertThat(applied.get("alice")).containsExactlyElementsOf(SCRIPT.eventsOf("alice"));
        assertThat(applied.get("carol")).containsExactlyElementsOf(SCRIPT.eventsOf("carol"));
        List<DeadLetter> letters = deadLetters("poison");
        assertThat(letters)
                .extracting(DeadLetter::getEventId)
                .containsExactlyElementsOf(StoreAssertions.eventIds(culprit));
        assertThat(letters)
                .allSatisfy(l -> assertThat(l.getDetail())
                        .contains("IllegalStateException", "the target cannot apply this change", "3 attempts"));
        assertThat(poisonAttempts.get()).as("attempts at the culprit").isBetween(3, 4);
        assertThat(metrics.get("mailstream.errors.retries")
                        .tag("role", "sink poison")
                        .counter()
                        .count())
                .as("failed attempts that were retried")
                .isGreaterThanOrEqualTo(2);
        assertThat(metrics.get("mailstream.sink.events.deadlettered").counters().stream()
                        .mapToDouble(c -> c.count())
                        .sum())
                .isEqualTo(culprit.size());
    }

    private static boolean isCommitPoint(ChangeEvent e) {
        return !(e.getPayload() instanceof MessageContent) && !(e.getPayload() instanceof RecordsUpsert);
    }

    /** Records applies; alice's first apply waits for a latch, carol's first fails once (RETRY), one of bob's is poison. */
    private static final class RecordingTarget implements TierTarget {
        final Map<String, List<ChangeEvent>> applied = new ConcurrentHashMap<>();
        final Set<String> active = ConcurrentHashMap.newKeySet();
        final AtomicInteger overlaps = new AtomicInteger();
        final List<ChangeEvent> cutChanges = new CopyOnWriteArrayList<>();
        final CountDownLatch aliceMayGo = new CountDownLatch(1);
        final String poisonEventId;
        volatile boolean carolFailed;

        RecordingTarget(String poisonEventId) {
            this.poisonEventId = poisonEventId;
        }

        List<ChangeEvent> applied(String key) {
            return applied.getOrDefault(key, List.of());
        }

        @Override
        public Applied apply(String key, List<ChangeEvent> events) throws Exception {
            if (!active.add(key)) overlaps.incrementAndGet();
            try {
                if (key.equals("alice")) aliceMayGo.await();
                if (key.equals("carol") && !carolFailed) {
                    carolFailed = true;
                    throw new IOException("replica restarting");
                }
                if (events.stream().anyMatch(e -> e.getEnvelope().getEventId().equals(poisonEventId))) {
                    throw new InvalidEventException("the replica rejects this mailbox");
                }
                ChangeEvent last = events.get(events.size() - 1);
                if (!isCommitPoint(last)) cutChanges.add(last);
                applied.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).addAll(events);
                Map<String, Long> crcs = new HashMap<>();
                events.forEach(e -> {
                    if (e.getEnvelope().getMailboxUniqueId() != null)
                        crcs.put(e.getEnvelope().getMailboxUniqueId(), 7L);
                });
                return new Applied(crcs);
            } finally {
                active.remove(key);
            }
        }
    }

    private static List<DeadLetter> deadLetters(String tier) {
        return readAll(Topics.DLQ).stream()
                .map(r -> AvroSerdes.deadLetter().deserializer().deserialize(Topics.DLQ, r.value()))
                .filter(l -> l.getSourceTopic().equals(Topics.feed(tier)))
                .toList();
    }

    @Test
    void aSinkKilledAfterApplyingButBeforeConfirmingResumesWithoutDuplicates() throws Exception {
        // The "crash": the target applies the second key's batch to the store, then the sink dies
        // (STOP) before the apply is confirmed, so its offsets stay uncommitted.
        StoreTarget store = new StoreTarget(dir.resolve("crash"));
        AtomicInteger applies = new AtomicInteger();
        TierTarget dying = new TierTarget() {
            @Override
            public Applied apply(String key, List<ChangeEvent> events) throws Exception {
                store.apply(key, events);
                if (applies.incrementAndGet() == 2) throw new FencedException("injected crash after applying " + key);
                return Applied.withoutCrcs();
            }

            @Override
            public void close() throws Exception {
                store.close();
            }
        };
        FeedSink crashed =
                new FeedSink(config, kafka.bootstrapServers(), "crash", dying, new SimpleMeterRegistry()).start();
        assertThat(crashed.awaitStop(Duration.ofSeconds(30))).isTrue();
        assertThat(crashed.failure()).hasValueSatisfying(f -> assertThat(f).contains("injected crash"));
        assertThat(committed("crash")).as("not everything was committed").isNotEqualTo(endOffsets("crash"));

        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        try (SinkHandle restarted = Sinks.start(config, kafka.bootstrapServers(), "crash", metrics)) {
            awaitCaughtUp("crash");
        }
        assertThat(metrics.get("mailstream.sink.events.applied").counter().count())
                .as("events delivered again")
                .isPositive();
        StoreAssertions.assertHolds(StoreReader.open(dir.resolve("crash")), SCRIPT);
    }

    private static void produceFeed(String tier) {
        Map<String, Object> props = KafkaClients.producerProps(kafka.bootstrapServers(), "test-feed-" + tier, 1 << 20);
        try (SchemaTopicRegistry schemas = new SchemaTopicRegistry(props);
                var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            AvroCodec<ChangeEvent> codec = AvroCodec.changeEvent(schemas);
            producer.initTransactions();
            producer.beginTransaction();
            for (ChangeEvent e : SCRIPT.events) {
                byte[] key = e.getEnvelope().getPartitionKey().getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(Topics.feed(tier), key, codec.encode(e)));
            }
            if (tier.equals("oob")) {
                producer.send(new ProducerRecord<>(
                        Topics.feed(tier),
                        "bob".getBytes(StandardCharsets.UTF_8),
                        "not an event".getBytes(StandardCharsets.UTF_8)));
            }
            producer.commitTransaction();
        }
    }

    /**
     * The script's feed ends, for alice, with a duplicate chunk and no header after it: a target that
     * needs whole changes holds it only in memory, so her partition's commit stays at it.
     */
    private static void awaitCommittedUpToAlicesFragment(String tier) {
        ConsumerRecord<byte[], byte[]> fragment = readAll(Topics.feed(tier)).stream()
                .filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals("alice"))
                .reduce((a, b) -> b)
                .orElseThrow();
        Map<TopicPartition, Long> expected = new HashMap<>(endOffsets(tier));
        expected.put(new TopicPartition(fragment.topic(), fragment.partition()), fragment.offset());
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> committed(tier).equals(expected));
    }

    private static void awaitCaughtUp(String tier) {
        Map<TopicPartition, Long> end = endOffsets(tier);
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> committed(tier).equals(end));
    }

    private static Map<TopicPartition, Long> committed(String tier) throws Exception {
        return FeedOffsets.committed(kafka.bootstrapServers(), tier);
    }

    private static Map<TopicPartition, Long> endOffsets(String tier) {
        return FeedOffsets.end(kafka.bootstrapServers(), tier);
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(kafka.bootstrapServers(), null),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicReader.readToEnd(consumer, topic, Duration.ofSeconds(20), out::add);
        }
        return out;
    }
}
