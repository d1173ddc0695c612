package io.mailstream.cli;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import java.util.List;
import picocli.CommandLine.Command;

@Command(
        name = "kafka",
        description = "Run only the embedded Kafka broker (data under data.dir/kafka) with every"
                + " mailstream topic, print its address, and keep it up until Ctrl-C (then a controlled shutdown).")
final class KafkaCommand extends Subcommand {
    @Override
    public Integer call() throws Exception {
        MailstreamConfig config = config();
        if (!config.embeddedKafka()) {
            throw new ConfigException(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS.name() + " is set ('"
                    + config.get(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS)
                    + "'), but 'mailstream kafka' runs only the embedded"
                    + " broker; unset it (and " + ConfigKeys.envName(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS.name()) + ")");
        }
        return runUntilStopped(config, List.of());
    }
}
