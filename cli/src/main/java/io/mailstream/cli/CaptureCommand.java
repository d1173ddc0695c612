package io.mailstream.cli;

import io.mailstream.core.config.MailstreamConfig;
import picocli.CommandLine.Command;

import java.util.List;

@Command(name = "capture", description = "Run the capture endpoint alone: a Cyrus primary's sync_client pushes every"
        + " change to it over csync, and it commits them to mailstream.changes before answering OK.")
final class CaptureCommand extends Subcommand {
    @Override
    public Integer call() throws Exception {
        MailstreamConfig config = config();
        return runUntilStopped(config, List.of(role(config)));
    }

    /** Capture as both {@code capture} and {@code run} start it. */
    static Role role(MailstreamConfig config) {
        throw new NotImplementedException("capture", 4);
    }
}
