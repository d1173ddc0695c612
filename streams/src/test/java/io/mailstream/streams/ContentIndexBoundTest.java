package io.mailstream.streams;

import static io.mailstream.streams.CommittedReads.latestValues;
import static io.mailstream.streams.CommittedReads.readAll;
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
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaResolver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On the real broker: streams' content index (the content topic, every instance's global
 * content-by-guid store and the per-key content-on-key store) keeps a body only while some live
 * record of some key references it, plus the grace. Bodies expunged or in a deleted mailbox go
 * once the grace has passed (tombstones in the compacted topic); a body still referenced under
 * another key (moved or copied to another user or a shared folder, a folder renamed to another
 * user) stays, and so does one referenced again within the grace. The grace passes on a clock
 * the test moves forward, never by waiting.
 *
 * <p>{@code -Dmailstream.test.expungedBodies=2000 -Dmailstream.test.bodyBytes=8192} measures the
 * index before and after for that many expunged bodies of that size (printed on stdout).
 */
class ContentIndexBoundTest {
    private static final AvroCodec<ChangeEvent> CODEC = AvroCodec.changeEvent(SchemaResolver.none());
    /** Short, as the clock may be moved ahead only so far: the broker refuses timestamps over an hour in the future. */
    private static final Duration GRACE = Duration.ofMinutes(10);

    private static final int EXPUNGED = Integer.getInteger("mailstream.test.expungedBodies", 20);
    private static final int BODY_BYTES = Integer.getInteger("mailstream.test.bodyBytes", 0);

    @TempDir
    Path dir;

    private int nextGuid;

    @Test
    void bodiesNothingReferencesAreDeletedAfterTheGraceWhileReferencedOnesStay() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
            String bootstrap = kafka.bootstrapServers();
            Map<String, String> values = StreamsOnBroker.settings(bootstrap, dir.resolve("app"), 3);
            values.put("tiers", "dc2");
            values.put("tier.dc2.type", "store");
            values.put("streams.content.grace.seconds", String.valueOf(GRACE.toSeconds()));
            MailstreamConfig config = MailstreamConfig.of(values);
            TopicAdmin.ensureTopics(config, bootstrap);
            Events.firstPromotion(bootstrap);

            List<String> expunged = guids(EXPUNGED); // expunged in alice's INBOX, referenced nowhere else
            List<String> trash = guids(3); // in alice's Trash, which is then deleted
            List<String> moved = guids(1); // MOVEd from alice's INBOX to bob's
            List<String> copied = guids(1); // copied into a shared folder, expunged in alice's INBOX
            List<String> renamed = guids(1); // in a folder of alice's renamed to bob (no body on bob's key)
            List<String> restored = guids(1); // expunged, then in alice's INBOX again within the grace
            List<String> live = guids(2); // never expunged

            Events events = new Events("ev");
            List<ChangeEvent> changes = new ArrayList<>();
            for (List<String> group : List.of(expunged, trash, moved, copied, renamed, restored, live)) {
                group.forEach(guid -> changes.add(content("alice", guid, events)));
            }
            List<String> inbox = concat(expunged, moved, copied, restored, live);
            changes.add(events.records("alice", "U-alice", "INBOX", records(inbox, 1)));
            changes.add(events.mailbox("alice", "U-alice", "INBOX", inbox.size(), inbox.size() + 1));
            changes.add(events.records("alice", "U-trash", "Trash", records(trash, 1)));
            changes.add(events.mailbox("alice", "U-trash", "Trash", trash.size(), trash.size() + 1));
            changes.add(events.records("alice", "U-project", "Project", records(renamed, 1)));
            changes.add(events.mailbox("alice", "U-project", "Project", renamed.size(), renamed.size() + 1));
            // A MOVE and a COPY to another key, as capture writes them: the body again on the new key.
            changes.add(content("bob", moved.get(0), events));
            changes.add(events.records("bob", "U-bob", "INBOX", records(moved, 1)));
            changes.add(events.mailbox("bob", "U-bob", "INBOX", 1, 2));
            changes.add(content("shared", copied.get(0), events));
            changes.add(events.records("shared", "U-shared", "folder", records(copied, 1)));
            changes.add(events.mailbox("shared", "U-shared", "folder", 1, 2));
            List<Long> gone = uidsOf(inbox, concat(expunged, moved, copied, restored));
            changes.add(events.expunge("alice", "U-alice", "INBOX", gone.toArray(Long[]::new)));
            changes.add(events.delete("alice", "U-trash", "Trash"));
            // A folder handed to bob: capture sends bob the records from its shadow, without bodies.
            changes.addAll(events.renameToUser("alice", "U-project", "Project", "bob"));
            changes.add(events.records("bob", "U-project", "Project", records(renamed, 1)));
            changes.add(events.mailbox("bob", "U-project", "Project", renamed.size(), renamed.size() + 1));
            List<ChangeEvent> markers = List.of(
                    events.subscribe("alice", "M1"), events.subscribe("bob", "M1"), events.subscribe("shared", "M1"));
            changes.addAll(markers);
            send(bootstrap, changes);

            OffsetTime clock = new OffsetTime();
            try (MailstreamStreams app = start(config, bootstrap, clock)) {
                awaitOnFeed(bootstrap, markers);
                // Within the grace the restored body is referenced again: as capture sends it, with its body.
                ChangeEvent again = events.subscribe("alice", "M2");
                send(
                        bootstrap,
                        List.of(
                                content("alice", restored.get(0), events),
                                events.records("alice", "U-alice", "INBOX", records(restored, inbox.size() + 1)),
                                again));
                awaitOnFeed(bootstrap, List.of(again));

                List<String> all = concat(expunged, trash, moved, copied, renamed, restored, live);
                await().atMost(Duration.ofSeconds(60))
                        .untilAsserted(() -> assertThat(guidsIn(app))
                                .as("bodies in content-by-guid before the grace")
                                .containsAll(all));
                Index before = measure(app, bootstrap);

                clock.shift(GRACE.plusMinutes(2));
                List<String> deleted = concat(expunged, trash);
                await().atMost(Duration.ofSeconds(60))
                        .untilAsserted(() -> assertThat(guidsIn(app))
                                .as("bodies in content-by-guid after the grace")
                                .doesNotContainAnyElementsOf(deleted));
                Index after = measure(app, bootstrap);
                System.out.printf(
                        "content index, %d expunged bodies of %d bytes: before %s; after the grace %s%n",
                        EXPUNGED, bodySize(expunged.get(0)), before, after);

                List<String> kept = concat(moved, copied, renamed, restored, live);
                assertThat(guidsIn(app))
                        .as("bodies in content-by-guid after the grace")
                        .containsAll(kept);
                Map<String, byte[]> topic = latestValues(bootstrap, Topics.STREAMS_CONTENT);
                assertThat(deleted)
                        .as("chunks of deleted bodies: a tombstone is the latest value")
                        .allSatisfy(guid -> assertThat(topic)
                                .containsKey(guid + "/0")
                                .extractingByKey(guid + "/0")
                                .isNull());
                assertThat(kept)
                        .as("chunks of referenced bodies")
                        .allSatisfy(guid -> assertThat(topic.get(guid + "/0")).isNotNull());
                assertThat(after.topicBodies()).isEqualTo(before.topicBodies() - deleted.size());

                Set<String> onKey = keys(app, MailstreamTopology.CONTENT_ON_KEY_STORE);
                assertThat(onKey)
                        .as("content-on-key")
                        .doesNotContainAnyElementsOf(concat(expunged, trash, moved, copied, renamed).stream()
                                .map(g -> "alice|" + g)
                                .toList());
                assertThat(onKey)
                        .as("content-on-key")
                        .contains(
                                "bob|" + moved.get(0),
                                "shared|" + copied.get(0),
                                "bob|" + renamed.get(0),
                                "alice|" + restored.get(0),
                                "alice|" + live.get(0),
                                "alice|" + live.get(1));
                assertThat(deadLetters(bootstrap)).isEmpty();
            }
        }
    }

    /** What the content index holds: bodies and bytes in the topic (latest values), the global store and content-on-key. */
    private record Index(int topicBodies, long topicBytes, int storeBodies, long storeBytes, int onKeyEntries) {
        @Override
        public String toString() {
            return String.format(
                    "topic %d bodies / %d bytes, content-by-guid %d bodies / %d bytes, content-on-key %d entries",
                    topicBodies, topicBytes, storeBodies, storeBytes, onKeyEntries);
        }
    }

    private static Index measure(MailstreamStreams app, String bootstrap) {
        Map<String, byte[]> topic = latestValues(bootstrap, Topics.STREAMS_CONTENT);
        topic.values().removeIf(v -> v == null);
        topic.keySet().removeIf(k -> k.startsWith("~"));
        long topicBytes = topic.values().stream().mapToLong(v -> v.length).sum();
        int topicBodies =
                (int) topic.keySet().stream().filter(k -> k.endsWith("/0")).count();
        long storeBytes = 0;
        int storeBodies = 0;
        try (var all = contentStore(app).all()) {
            while (all.hasNext()) {
                var kv = all.next();
                if (kv.key.startsWith("~")) continue;
                storeBytes += kv.value.length;
                if (kv.key.endsWith("/0")) storeBodies++;
            }
        }
        return new Index(
                topicBodies,
                topicBytes,
                storeBodies,
                storeBytes,
                keys(app, MailstreamTopology.CONTENT_ON_KEY_STORE).size());
    }

    private List<String> guids(int n) {
        return IntStream.range(0, n)
                .mapToObj(i -> String.format("%040x", ++nextGuid))
                .toList();
    }

    @SafeVarargs
    private static List<String> concat(List<String>... groups) {
        return Arrays.stream(groups).flatMap(List::stream).toList();
    }

    private static MessageRecord[] records(List<String> guids, int firstUid) {
        return IntStream.range(0, guids.size())
                .mapToObj(i -> record(firstUid + i, firstUid + i + 1, guids.get(i)))
                .toArray(MessageRecord[]::new);
    }

    private static List<Long> uidsOf(List<String> inbox, List<String> guids) {
        return guids.stream().map(g -> (long) inbox.indexOf(g) + 1).toList();
    }

    private static ChangeEvent content(String user, String guid, Events events) {
        return BODY_BYTES <= 0 ? events.content(user, guid) : events.content(user, guid, paddedBody(guid));
    }

    private static int bodySize(String guid) {
        return BODY_BYTES <= 0 ? Events.body(guid).length : paddedBody(guid).length;
    }

    private static byte[] paddedBody(String guid) {
        byte[] body = new byte[BODY_BYTES];
        Arrays.fill(body, (byte) 'x');
        byte[] head = Events.body(guid);
        System.arraycopy(head, 0, body, 0, Math.min(head.length, body.length));
        return body;
    }

    private static Set<String> guidsIn(MailstreamStreams app) {
        Set<String> guids = new TreeSet<>();
        try (var all = contentStore(app).all()) {
            all.forEachRemaining(kv -> {
                if (!kv.key.startsWith("~")) guids.add(kv.key.substring(0, kv.key.indexOf('/')));
            });
        }
        return guids;
    }

    private static ReadOnlyKeyValueStore<String, byte[]> contentStore(MailstreamStreams app) {
        return app.kafkaStreams()
                .store(StoreQueryParameters.fromNameAndType(
                        MailstreamTopology.CONTENT_STORE, QueryableStoreTypes.<String, byte[]>keyValueStore()));
    }

    private static Set<String> keys(MailstreamStreams app, String storeName) {
        ReadOnlyKeyValueStore<String, Object> store = app.kafkaStreams()
                .store(StoreQueryParameters.fromNameAndType(
                        storeName, QueryableStoreTypes.<String, Object>keyValueStore()));
        Set<String> keys = new TreeSet<>();
        try (var all = store.all()) {
            all.forEachRemaining(kv -> keys.add(kv.key));
        }
        return keys;
    }

    private static void awaitOnFeed(String bootstrap, List<ChangeEvent> expected) {
        Set<String> ids =
                expected.stream().map(e -> e.getEnvelope().getEventId()).collect(Collectors.toSet());
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> readAll(bootstrap, Topics.feed("dc2")).stream()
                        .map(r -> CODEC.decode(r.value()).getEnvelope().getEventId())
                        .collect(Collectors.toSet())
                        .containsAll(ids));
    }

    private static void send(String bootstrap, List<ChangeEvent> events) throws Exception {
        try (KafkaProducer<String, byte[]> capture = new KafkaProducer<>(
                KafkaClients.producerProps(bootstrap, "test-capture", 1 << 20),
                new StringSerializer(),
                new ByteArraySerializer())) {
            capture.initTransactions();
            capture.beginTransaction();
            for (ChangeEvent e : events) {
                capture.send(
                        new ProducerRecord<>(Topics.CHANGES, e.getEnvelope().getPartitionKey(), CODEC.encode(e)));
            }
            capture.commitTransaction();
        }
    }
}
