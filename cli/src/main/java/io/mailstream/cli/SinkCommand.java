package io.mailstream.cli;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.MailstreamConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

@Command(name = "sink", description = "Run the sink of one tier alone: applies mailstream.feed.<tier> to its Cyrus"
        + " replica or out-of-band store and publishes what it applied to mailstream.progress.")
final class SinkCommand extends Subcommand {
    @Option(names = "--tier", required = true, paramLabel = "NAME", description = "A tier listed in 'tiers'.")
    String tier;

    @Override
    public Integer call() throws Exception {
        MailstreamConfig config = config();
        if (!config.tiers().contains(tier)) {
            throw new ConfigException("--tier " + tier + ": not a configured tier (tiers = " + String.join(",", config.tiers()) + ")");
        }
        return runUntilStopped(config, List.of(role(config, tier)));
    }

    /** The sink of {@code tier} as both {@code sink} and {@code run} start it. */
    static Role role(MailstreamConfig config, String tier) {
        throw new NotImplementedException("sink", 6);
    }
}
