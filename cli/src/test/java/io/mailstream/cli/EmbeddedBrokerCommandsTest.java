package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kafka} and {@code run} on the embedded broker: a broker plain Kafka clients can use, stopped cleanly. */
class EmbeddedBrokerCommandsTest {
    private static final Pattern ADDRESS = Pattern.compile("embedded Kafka broker at (\\S+)");

    @TempDir
    Path dir;

    @Test
    void runStartsTheBrokerWithEveryTierFeedAndOnlyTheEnabledRoles() throws Exception {
        Cli cli = new Cli(Map.of(
                "MAILSTREAM_DATA_DIR",
                dir.toString(),
                "MAILSTREAM_HTTP_LISTEN",
                PipelineLab.ANY_PORT,
                "MAILSTREAM_TIERS",
                "oob",
                "MAILSTREAM_TIER_OOB_TYPE",
                "store",
                "MAILSTREAM_CAPTURE_ENABLED",
                "false",
                "MAILSTREAM_STREAMS_ENABLED",
                "false"));
        CompletableFuture<Integer> exit = cli.startUntilRunning("run");
        assertThat(cli.out())
                .contains("mailstream run: started sink oob")
                .doesNotContain("started streams")
                .doesNotContain("started capture");
        Matcher m = ADDRESS.matcher(cli.out());
        assertThat(m.find()).isTrue();
        try (var consumer = new KafkaConsumer<>(
                Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, m.group(1)),
                new StringDeserializer(),
                new StringDeserializer())) {
            assertThat(consumer.listTopics(Duration.ofSeconds(30)).keySet()).contains(Topics.feed("oob"));
        }
        cli.stop.stop();
        assertThat(exit.get(60, TimeUnit.SECONDS)).as(cli.err()).isZero();
    }

    @Test
    void aRoleThatFailsStopsEverythingInReverseOrderAndExits1() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        Role healthy = Role.of("healthy", ctx -> {
            events.add("healthy started on " + ctx.bootstrapServers());
            return () -> events.add("healthy closed");
        });
        Role[] failing = new Role[1];
        failing[0] = Role.of("failing", ctx -> {
            events.add("failing started");
            // Fails after start, from its own thread, as a consumer loop would.
            new Thread(() -> ctx.fail(failing[0], new IllegalStateException("lost its target"))).start();
            return () -> events.add("failing closed");
        });
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        RoleRunner runner = new RoleRunner(
                "mailstream test", new PrintWriter(out, true), new PrintWriter(err, true), StopSignal.manual());
        int code = runner.run(
                MailstreamConfig.of(Map.of("data.dir", dir.toString(), "http.listen", PipelineLab.ANY_PORT)),
                List.of(healthy, failing[0]));
        assertThat(code).isEqualTo(Main.FAILURE);
        assertThat(events).hasSize(4);
        assertThat(events.get(0)).startsWith("healthy started on 127.0.0.1:");
        assertThat(events.subList(1, 4)).containsExactly("failing started", "failing closed", "healthy closed");
        assertThat(err.toString()).isEqualTo("mailstream test: failing failed: lost its target\n");
        assertThat(out.toString()).contains("started healthy", "started failing", "mailstream test: stopped");
    }

    @Test
    void plainClientsRoundTripARecordThroughTheBrokerItStarts() throws Exception {
        Cli cli =
                new Cli(Map.of("MAILSTREAM_DATA_DIR", dir.toString(), "MAILSTREAM_HTTP_LISTEN", PipelineLab.ANY_PORT));
        CompletableFuture<Integer> exit = cli.startUntilRunning("kafka");
        Matcher m = ADDRESS.matcher(cli.out());
        assertThat(m.find()).isTrue();
        String bootstrap = m.group(1);
        assertThat(dir.resolve("kafka")).isDirectory();

        try (var producer = new KafkaProducer<>(
                Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>(Topics.CHANGES, "alice", "hello"))
                    .get(30, TimeUnit.SECONDS);
        }
        try (var consumer = new KafkaConsumer<>(
                Map.<String, Object>of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrap,
                        ConsumerConfig.GROUP_ID_CONFIG,
                        "kafka-command-test",
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                        "earliest"),
                new StringDeserializer(),
                new StringDeserializer())) {
            // The topics were created by the command, not by the client (auto-creation is off).
            assertThat(consumer.listTopics(Duration.ofSeconds(30)).keySet())
                    .contains(
                            Topics.CHANGES, Topics.SCHEMAS, Topics.CONTROL, Topics.STATE, Topics.PROGRESS, Topics.DLQ);
            consumer.subscribe(List.of(Topics.CHANGES));
            List<String> values = new ArrayList<>();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (values.isEmpty() && System.nanoTime() < until) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.key() + "=" + r.value());
                }
            }
            assertThat(values).containsExactly("alice=hello");
        }

        cli.stop.stop();
        assertThat(exit.get(60, TimeUnit.SECONDS)).as(cli.err()).isZero();
        assertThat(cli.out()).contains("mailstream kafka: stopping\nmailstream kafka: stopped\n");
    }
}
