package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An operator starting mailstream on a broker that already auto-created its history topic with the broker's 7 days. */
class ExistingTopicsCommandTest {
    @TempDir
    Path dir;

    @Test
    void aChangesTopicWithSevenDayRetentionStopsTheCommandWithTheTopicSettingAndValues() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
                Admin admin = Admin.create(KafkaClients.adminProps(kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(Topics.CHANGES, 3, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        Cli cli =
                new Cli(Map.of("MAILSTREAM_DATA_DIR", dir.toString(), "MAILSTREAM_HTTP_LISTEN", PipelineLab.ANY_PORT));
        int exit = cli.run("kafka");
        assertThat(exit).as(cli.out()).isEqualTo(Main.USAGE);
        assertThat(cli.err())
                .contains("mailstream kafka: configuration error: existing topics on 127.0.0.1:")
                .contains("topic mailstream.changes: retention.ms is 604800000, expected -1 (kept forever)")
                .doesNotContain("running; Ctrl-C stops it");
    }
}
