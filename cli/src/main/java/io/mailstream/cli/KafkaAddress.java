package io.mailstream.cli;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import java.nio.file.Path;

/** Where commands that only talk to Kafka (status, events) find it: the configured cluster or the embedded broker of data.dir. */
final class KafkaAddress {
    private KafkaAddress() {}

    static String of(MailstreamConfig config) {
        if (!config.embeddedKafka()) {
            return config.get(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS);
        }
        Path dir = RoleRunner.embeddedDir(config);
        return EmbeddedKafka.bootstrapServersOf(dir)
                .orElseThrow(() ->
                        new ConfigException("kafka.bootstrap.servers is empty and no embedded broker has run in " + dir
                                + ": start 'mailstream run' or 'mailstream kafka' with this configuration first"));
    }
}
