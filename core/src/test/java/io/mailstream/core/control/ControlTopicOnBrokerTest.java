package io.mailstream.core.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.PrimaryAssignment;
import io.mailstream.schemas.TierRole;
import io.mailstream.schemas.codec.SchemaResolver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Control writes are compare-and-set, and a promotion fences the old primary's capture at the broker. */
class ControlTopicOnBrokerTest {
    @TempDir
    Path dir;

    private interface Body {
        void run(ControlTopic control, EmbeddedKafka kafka) throws Exception;
    }

    /** A broker with the mailstream topics (3 partitions) and an empty control topic. */
    private void withBroker(Body body) throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
            TopicAdmin.ensureTopics(
                    MailstreamConfig.of(Map.of(
                            "kafka.topic.partitions",
                            "3",
                            "data.dir",
                            dir.resolve("data").toString())),
                    kafka.bootstrapServers());
            body.run(new ControlTopic(kafka.bootstrapServers(), SchemaResolver.none()), kafka);
        }
    }

    @Test
    void twoBootstrapsThatReadTheSameEmptyTopicCannotBothWin() throws Exception {
        withBroker((control, kafka) -> {
            ControlTopic.Write first = control.begin();
            ControlTopic.Write second = control.begin(); // began after first: first can no longer commit
            assertThat(first.state().primary()).isEmpty();
            assertThat(second.state().primary()).isEmpty();

            second.commit(List.of(record(ControlTopic.ALL_KEYS, "dc2"), record(ControlTopic.epochKey(1), "dc2")));
            assertThatThrownBy(() -> first.commit(
                            List.of(record(ControlTopic.ALL_KEYS, "dc1"), record(ControlTopic.epochKey(1), "dc1"))))
                    .isInstanceOf(ControlConflictException.class)
                    .hasMessageContaining("began meanwhile");
            first.close();
            second.close();

            ControlState state = control.read();
            assertThat(state.primary())
                    .get()
                    .extracting(PrimaryAssignment::getTier)
                    .isEqualTo("dc2");
            assertThat(state.assignment(1))
                    .get()
                    .extracting(PrimaryAssignment::getTier)
                    .isEqualTo("dc2");
            // and a late bootstrap that reads the winner is refused outright
            assertThatThrownBy(() -> control.promoteInitial("dc1", "dc1", "test", "late bootstrap"))
                    .isInstanceOf(ControlConflictException.class)
                    .hasMessageContaining("already primary at epoch 1");
        });
    }

    @Test
    void concurrentBootstrapsAndPromotionsHaveExactlyOneWinner() throws Exception {
        withBroker((control, kafka) -> {
            List<Object> bootstraps = race(
                    () -> control.promoteInitial("dc1", "dc1", "a", "bootstrap"),
                    () -> control.promoteInitial("dc2", "dc2", "b", "bootstrap"));
            assertThat(bootstraps)
                    .filteredOn(r -> r instanceof PrimaryAssignment)
                    .hasSize(1);
            assertThat(bootstraps)
                    .filteredOn(r -> r instanceof ControlConflictException)
                    .hasSize(1);
            PrimaryAssignment first = control.primary().orElseThrow();
            assertThat(first.getEpoch()).isEqualTo(1);
            assertThat(bootstraps).contains(first);

            List<Object> promotions = race(
                    () -> control.promote("dc3", 1, TierRole.REPLICA, "dc3", "a", "planned"),
                    () -> control.promote("dc4", 1, TierRole.REPLICA, "dc4", "b", "planned"));
            assertThat(promotions)
                    .filteredOn(r -> r instanceof PrimaryAssignment)
                    .hasSize(1);
            assertThat(promotions)
                    .filteredOn(r -> r instanceof ControlConflictException)
                    .hasSize(1);
            PrimaryAssignment second = control.primary().orElseThrow();
            assertThat(second.getEpoch()).isEqualTo(2);
            assertThat(second.getFencePending()).isFalse();
            assertThat(promotions).contains(second);
            assertThat(control.read().role(first.getTier())).contains(TierRole.REPLICA);
            assertThat(control.read().role(second.getTier())).contains(TierRole.PRIMARY);
        });
    }

    @Test
    void aPromotionThatExpectedAnOlderEpochIsRefusedAndChangesNothing() throws Exception {
        withBroker((control, kafka) -> {
            control.promoteInitial("dc1", "dc1", "test", "bootstrap");
            control.promote("dc2", 1, TierRole.REPLICA, "dc2", "operator a", "planned");
            Map<String, ControlEvent> before = control.readLatest();
            assertThatThrownBy(() -> control.promote("dc3", 1, TierRole.DIVERGED, "dc3", "operator b", "forced"))
                    .isInstanceOf(ControlConflictException.class)
                    .hasMessageContaining("the epoch is 2")
                    .hasMessageContaining("not the expected 1");
            assertThat(control.readLatest()).isEqualTo(before);
        });
    }

    @Test
    void aPromotionFencesTheOldCaptureAndRecordsWhereItsEventsEnd() throws Exception {
        withBroker((control, kafka) -> {
            control.promoteInitial("dc1", "dc1", "test", "bootstrap");
            try (var capture = new KafkaProducer<>(
                    KafkaClients.producerProps(
                            kafka.bootstrapServers(), ControlTopic.captureTransactionalId("dc1"), 1 << 20),
                    new StringSerializer(),
                    new StringSerializer())) {
                capture.initTransactions();
                capture.beginTransaction();
                for (int i = 0; i < 5; i++) {
                    capture.send(new ProducerRecord<>(Topics.CHANGES, "user" + i, "acknowledged"));
                }
                capture.commitTransaction();
                capture.beginTransaction();
                capture.send(new ProducerRecord<>(Topics.CHANGES, "user0", "in flight"))
                        .get();

                PrimaryAssignment promoted = control.promote("dc2", 1, TierRole.DIVERGED, "dc2", "test", "forced");

                assertThatThrownBy(capture::commitTransaction).isInstanceOf(KafkaException.class);
                assertThat(promoted.getFencePending()).isFalse();
                assertThat(promoted.getFencePoint()).hasSize(3);
                // every record the old capture wrote, committed or aborted, is below the fence point
                assertThat(promoted.getFencePoint().stream()
                                .mapToLong(Long::longValue)
                                .sum())
                        .isGreaterThanOrEqualTo(6);
                assertThat(control.read().role("dc1")).contains(TierRole.DIVERGED);
                assertThat(control.read().assignment(1))
                        .get()
                        .extracting(PrimaryAssignment::getTier)
                        .isEqualTo("dc1");
            }
        });
    }

    @Test
    void aPromotionOverAnAssignmentWrittenBeforeEpochsWereKeptFencesItToo() throws Exception {
        withBroker((control, kafka) -> {
            // As captures used to register themselves: one "*" record, no per-epoch key, no fence point.
            PrimaryAssignment legacy = PrimaryAssignment.newBuilder()
                    .setScope("*")
                    .setServerId("primary-1")
                    .setSite("dc1")
                    .setEpoch(1)
                    .build();
            try (var producer = new KafkaProducer<>(
                    KafkaClients.producerProps(kafka.bootstrapServers(), null, 1 << 20),
                    new StringSerializer(),
                    io.mailstream.schemas.codec.AvroSerdes.controlEvent().serializer())) {
                producer.send(ControlTopic.assignmentRecord(
                                ControlTopic.ALL_KEYS, legacy, "capture primary-1", "first start"))
                        .get();
            }
            PrimaryAssignment promoted = control.promote("dc2", 1, TierRole.REPLICA, "dc2", "test", "planned");
            assertThat(promoted.getEpoch()).isEqualTo(2);
            assertThat(promoted.getFencePending()).isFalse();
            assertThat(control.read().assignment(1)).contains(legacy);
            assertThat(control.read().role("primary")).contains(TierRole.REPLICA);
        });
    }

    private static ProducerRecord<String, ControlEvent> record(String key, String tier) {
        return ControlTopic.assignmentRecord(
                key, ControlTopic.assignment(tier, tier, 1, false, List.of()), "test", "bootstrap");
    }

    /** Both at once, released together; each result is the value or the exception. */
    @SafeVarargs
    private static List<Object> race(Callable<PrimaryAssignment>... writers) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(writers.length);
        CyclicBarrier start = new CyclicBarrier(writers.length);
        try {
            List<Future<PrimaryAssignment>> futures = new ArrayList<>();
            for (Callable<PrimaryAssignment> w : writers) {
                futures.add(pool.submit(() -> {
                    start.await();
                    return w.call();
                }));
            }
            List<Object> results = new ArrayList<>();
            for (Future<PrimaryAssignment> f : futures) {
                try {
                    results.add(f.get());
                } catch (ExecutionException e) {
                    results.add(e.getCause());
                }
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
