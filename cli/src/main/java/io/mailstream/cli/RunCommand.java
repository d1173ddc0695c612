package io.mailstream.cli;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

@Command(name = "run", description = "Run every role the configuration enables in one process: capture"
        + " (capture.enabled), streams (streams.enabled) and one sink per tier, on the embedded Kafka broker when"
        + " kafka.bootstrap.servers is empty. Roles not implemented yet are named and skipped.")
final class RunCommand extends Subcommand {
    private record PlannedRole(String label, Supplier<Role> factory) {}

    @Override
    public Integer call() throws Exception {
        MailstreamConfig config = config();
        List<Role> roles = new ArrayList<>();
        List<String> unavailable = new ArrayList<>();
        for (PlannedRole planned : plan(config)) {
            try {
                roles.add(planned.factory().get());
            } catch (NotImplementedException e) {
                unavailable.add(planned.label() + " (" + e.pending() + ")");
            }
        }
        if (!unavailable.isEmpty()) {
            err().println(displayName() + ": not available yet, so not started: " + String.join(", ", unavailable));
        }
        if (roles.isEmpty() && !config.embeddedKafka()) {
            err().println(displayName() + ": nothing to run: no enabled role is available and Kafka is external");
            return Main.USAGE;
        }
        return runUntilStopped(config, roles);
    }

    private static List<PlannedRole> plan(MailstreamConfig config) {
        List<PlannedRole> plan = new ArrayList<>();
        if (config.get(ConfigKeys.CAPTURE_ENABLED)) plan.add(new PlannedRole("capture", () -> CaptureCommand.role(config)));
        if (config.get(ConfigKeys.STREAMS_ENABLED)) plan.add(new PlannedRole("streams", () -> StreamsCommand.role(config)));
        for (String tier : config.tiers()) {
            plan.add(new PlannedRole("sink " + tier, () -> SinkCommand.role(config, tier)));
        }
        return plan;
    }
}
