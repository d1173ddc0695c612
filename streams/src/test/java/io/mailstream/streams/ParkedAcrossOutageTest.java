package io.mailstream.streams;

import static io.mailstream.streams.CommittedReads.eventIdsByKey;
import static io.mailstream.streams.CommittedReads.readAll;
import static io.mailstream.streams.CommittedReads.readUntil;
import static io.mailstream.streams.Events.record;
import static io.mailstream.streams.StreamsOnBroker.deadLetters;
import static io.mailstream.streams.StreamsOnBroker.start;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.Topics;
import io.mailstream.core.metrics.MailstreamMetrics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaResolver;
import io.micrometer.core.instrument.Counter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On the real broker: records whose bodies were first seen under another key wait for those
 * bodies as long as the log says they can still come, however much wall-clock time passes and
 * across a restart, and then flow complete; one whose body is nowhere in the log is dead-lettered.
 */
class ParkedAcrossOutageTest {
    private static final AvroCodec<ChangeEvent> CODEC = AvroCodec.changeEvent(SchemaResolver.none());
    private static final AvroCodec<StateRecord> STATE = AvroCodec.stateRecord(SchemaResolver.none());
    private static final int PARTITIONS = 3;
    private static final String SENDER = "alice";
    private static final List<String> GUIDS = IntStream.rangeClosed(1, 4)
            .mapToObj(i -> String.valueOf(i).repeat(40))
            .toList();

    @TempDir
    Path dir;

    @Test
    void waitsForBodiesTheLogStillHoldsAcrossAnOutageAndAClockFarAheadButNotForOnesItLacks() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
            String bootstrap = kafka.bootstrapServers();
            Map<String, String> values = StreamsOnBroker.settings(bootstrap, dir.resolve("app"), PARTITIONS);
            values.put("tiers", "dc2");
            values.put("tier.dc2.type", "store");
            MailstreamConfig config = MailstreamConfig.of(values);
            TopicAdmin.ensureTopics(config, bootstrap);
            Events.firstPromotion(bootstrap);

            List<String> receivers = receiversNotOnTheSendersPartition();
            Events events = new Events("ev");
            // Another writer's open transaction holds the sender's partition back (its last stable
            // offset stays below it): the bodies are in the log, but no read_committed reader,
            // streams included, gets to them until that transaction ends.
            ChangeEvent blocked = events.subscribe(SENDER, "Blocked");
            KafkaProducer<String, byte[]> blocker = producer(bootstrap, "test-blocker");
            blocker.initTransactions();
            blocker.beginTransaction();
            blocker.send(toChanges(blocked)).get();

            // As capture writes it: every body once, under the first key that has it, before any record.
            List<ChangeEvent> backlog = new ArrayList<>();
            GUIDS.forEach(guid -> backlog.add(events.content(SENDER, guid)));
            backlog.add(events.records(SENDER, "U-" + SENDER, "INBOX", records()));
            Map<String, List<ChangeEvent>> byReceiver = new TreeMap<>();
            for (String user : receivers) {
                byReceiver.put(
                        user,
                        List.of(
                                events.mailbox(user, "U-" + user, "INBOX", GUIDS.size(), GUIDS.size() + 1),
                                events.records(user, "U-" + user, "INBOX", records()),
                                events.subscribe(user, "INBOX")));
                backlog.addAll(byReceiver.get(user));
            }
            try (KafkaProducer<String, byte[]> capture = producer(bootstrap, "test-capture")) {
                capture.initTransactions();
                capture.beginTransaction();
                for (ChangeEvent e : backlog) {
                    capture.send(toChanges(e));
                }
                capture.commitTransaction();
            }

            // The first run parks every receiver's records; then streams is down, and comes back
            // with its clock ten minutes later (well past any grace counted in wall-clock time).
            OffsetTime clock = new OffsetTime();
            try (MailstreamStreams first = start(config, bootstrap, clock)) {
                await().atMost(Duration.ofSeconds(60))
                        .ignoreExceptions()
                        .until(() -> parkedKeys(first), keys -> keys.containsAll(receivers));
            }
            clock.shift(Duration.ofMinutes(10));
            try (MailstreamStreams second = start(config, bootstrap, clock)) {
                double checked = parkedChecks();
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> !deadLetters(bootstrap).isEmpty() || parkedChecks() >= checked + 3);
                assertThat(deadLetters(bootstrap))
                        .as("dead letters while the bodies are still ahead in the log")
                        .isEmpty();
                assertThat(parkedKeys(second)).containsAll(receivers);

                blocker.commitTransaction();
                blocker.close();

                int expected = 1 + backlog.size() + receivers.size() * GUIDS.size(); // + a body copy per receiver
                Map<String, List<String>> feed = eventIdsByKey(readUntil(bootstrap, Topics.feed("dc2"), expected));
                Map<String, List<String>> wanted = new TreeMap<>();
                wanted.put(SENDER, idsOf(blocked, backlog.subList(0, GUIDS.size() + 1)));
                byReceiver.forEach((user, list) -> {
                    String recordsId = list.get(1).getEnvelope().getEventId();
                    List<String> ids =
                            new ArrayList<>(List.of(list.get(0).getEnvelope().getEventId()));
                    GUIDS.forEach(guid -> ids.add(recordsId + "/content/" + guid + "/0"));
                    list.subList(1, list.size())
                            .forEach(e -> ids.add(e.getEnvelope().getEventId()));
                    wanted.put(user, ids);
                });
                assertThat(feed).isEqualTo(wanted);
                assertThat(deadLetters(bootstrap)).isEmpty();

                Map<String, StateRecord> state = new TreeMap<>();
                readAll(bootstrap, Topics.STATE).forEach(r -> state.put(r.key(), STATE.decode(r.value())));
                for (String user : receivers) {
                    MailboxState inbox =
                            (MailboxState) state.get("mailbox:U-" + user).getState();
                    assertThat(inbox.getRecords())
                            .extracting(MessageRecord::getGuid)
                            .containsExactlyElementsOf(GUIDS);
                    assertThat(inbox.getHeader().getLastUid()).isEqualTo(GUIDS.size());
                }
                await().atMost(Duration.ofSeconds(30))
                        .ignoreExceptions()
                        .until(() -> parkedKeys(second).isEmpty());

                // A record whose body is nowhere in the log (every partition read to its end,
                // transaction markers included) is dead-lettered; its key goes on behind it.
                String user = receivers.get(0);
                ChangeEvent orphan = events.records(
                        user, "U-" + user, "INBOX", record(GUIDS.size() + 1, GUIDS.size() + 3, "f".repeat(40)));
                ChangeEvent after = events.subscribe(user, "After");
                try (KafkaProducer<String, byte[]> capture = producer(bootstrap, "test-capture")) {
                    capture.initTransactions();
                    capture.beginTransaction();
                    capture.send(toChanges(orphan));
                    capture.send(toChanges(after));
                    capture.commitTransaction();
                }
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> !deadLetters(bootstrap).isEmpty());
                assertThat(deadLetters(bootstrap))
                        .singleElement()
                        .asString()
                        .startsWith("MISSING_CONTENT: ")
                        .contains("f".repeat(40));
                assertThat(eventIdsByKey(readUntil(bootstrap, Topics.feed("dc2"), expected + 1))
                                .get(user))
                        .endsWith(
                                wanted.get(user).get(wanted.get(user).size() - 1),
                                after.getEnvelope().getEventId());
            }
        }
    }

    private static MessageRecord[] records() {
        return IntStream.range(0, GUIDS.size())
                .mapToObj(i -> record(i + 1, i + 2, GUIDS.get(i)))
                .toArray(MessageRecord[]::new);
    }

    /** Users whose events land on another partition of mailstream.changes than the sender's. */
    private static List<String> receiversNotOnTheSendersPartition() {
        int sender = partitionOf(SENDER);
        List<String> users = IntStream.range(0, 50)
                .mapToObj(i -> "user" + i)
                .filter(u -> partitionOf(u) != sender)
                .limit(3)
                .toList();
        assertThat(users).hasSize(3);
        return users;
    }

    /** What the producer's default partitioner picks for a key. */
    private static int partitionOf(String key) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
    }

    private static List<String> parkedKeys(MailstreamStreams app) {
        ReadOnlyKeyValueStore<String, Long> store = app.kafkaStreams()
                .store(StoreQueryParameters.fromNameAndType(
                        MailstreamTopology.PARKED_KEYS_STORE, QueryableStoreTypes.<String, Long>keyValueStore()));
        List<String> keys = new ArrayList<>();
        try (var all = store.all()) {
            all.forEachRemaining(kv -> keys.add(kv.key));
        }
        return keys;
    }

    private static double parkedChecks() {
        Counter counter = MailstreamMetrics.registry()
                .find(MailstreamTopology.PARKED_CHECKS_METER)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap, String transactionalId) {
        return new KafkaProducer<>(
                KafkaClients.producerProps(bootstrap, transactionalId, 1 << 20),
                new StringSerializer(),
                new ByteArraySerializer());
    }

    private static ProducerRecord<String, byte[]> toChanges(ChangeEvent e) {
        return new ProducerRecord<>(Topics.CHANGES, e.getEnvelope().getPartitionKey(), CODEC.encode(e));
    }

    private static List<String> idsOf(ChangeEvent first, List<ChangeEvent> rest) {
        List<String> ids = new ArrayList<>(List.of(first.getEnvelope().getEventId()));
        rest.forEach(e -> ids.add(e.getEnvelope().getEventId()));
        return ids;
    }
}
