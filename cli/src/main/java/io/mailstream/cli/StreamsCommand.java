package io.mailstream.cli;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.streams.MailstreamStreams;
import java.util.List;
import picocli.CommandLine.Command;

@Command(
        name = "streams",
        description = "Run the streams processor alone: fences stale primaries, validates events,"
                + " keeps the canonical state in mailstream.state and fans out one mailstream.feed.<tier> per tier.")
final class StreamsCommand extends Subcommand {
    @Override
    public Integer call() throws Exception {
        MailstreamConfig config = config();
        return runUntilStopped(config, List.of(role(config)));
    }

    /** Streams as both {@code streams} and {@code run} start it. */
    static Role role(MailstreamConfig config) {
        return Role.of("streams", ctx -> {
            MailstreamStreams streams = MailstreamStreams.build(ctx.config(), ctx.bootstrapServers());
            streams.start();
            return streams;
        });
    }
}
