package io.mailstream.cli;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

@Command(
        name = "run",
        description = "Run every role the configuration enables in one process: capture"
                + " (capture.enabled), streams (streams.enabled) and one sink per tier, on the embedded Kafka broker when"
                + " kafka.bootstrap.servers is empty.")
final class RunCommand extends Subcommand {
    @Override
    public Integer call() throws Exception {
        MailstreamConfig config = config();
        List<Role> roles = roles(config);
        if (roles.isEmpty() && !config.embeddedKafka()) {
            err().println(displayName() + ": nothing to run: no role is enabled and Kafka is external");
            return Main.USAGE;
        }
        return runUntilStopped(config, roles);
    }

    /** Every role the configuration enables, in start order (the sinks' sources start first). */
    static List<Role> roles(MailstreamConfig config) {
        List<Role> roles = new ArrayList<>();
        if (config.get(ConfigKeys.CAPTURE_ENABLED)) roles.add(CaptureCommand.role(config));
        if (config.get(ConfigKeys.STREAMS_ENABLED)) roles.add(StreamsCommand.role(config));
        for (String tier : config.tiers()) {
            roles.add(SinkCommand.role(config, tier));
        }
        return roles;
    }
}
