package io.mailstream.cli;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.sinks.SinkHandle;
import io.mailstream.sinks.Sinks;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "sink",
        description = "Run the sink of one tier alone: applies mailstream.feed.<tier> to its Cyrus"
                + " replica or out-of-band store and publishes what it applied to mailstream.progress.")
final class SinkCommand extends Subcommand {
    @Option(names = "--tier", required = true, paramLabel = "NAME", description = "A tier listed in 'tiers'.")
    String tier;

    @Override
    public Integer call() throws Exception {
        MailstreamConfig config = config();
        if (!config.tiers().contains(tier)) {
            throw new ConfigException(
                    "--tier " + tier + ": not a configured tier (tiers = " + String.join(",", config.tiers()) + ")");
        }
        return runUntilStopped(config, List.of(role(config, tier)));
    }

    /** The sink of {@code tier} as both {@code sink} and {@code run} start it. */
    static Role role(MailstreamConfig config, String tier) {
        return new SinkRole(tier);
    }

    /** A sink that stops on its own (an ErrorPolicy STOP, e.g. bad credentials) stops the process with its reason. */
    private static final class SinkRole implements Role {
        private final String tier;
        private SinkHandle sink;
        private Thread watcher;

        SinkRole(String tier) {
            this.tier = tier;
        }

        @Override
        public String name() {
            return "sink " + tier;
        }

        @Override
        public void start(RoleContext context) {
            sink = Sinks.start(context.config(), context.bootstrapServers(), tier, context.metrics());
            watcher = new Thread(
                    () -> {
                        try {
                            while (!sink.awaitStop(Duration.ofSeconds(1))) {
                                // keep waiting
                            }
                            sink.failure().ifPresent(why -> context.fail(this, new IllegalStateException(why)));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    },
                    "sink-" + tier + "-watch");
            watcher.setDaemon(true);
            watcher.start();
        }

        @Override
        public void close() throws InterruptedException {
            if (sink != null) sink.close();
            if (watcher != null) watcher.join(5_000);
        }
    }
}
