package io.mailstream.cli;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.producers.capture.Capture;
import java.util.List;
import picocli.CommandLine.Command;

@Command(
        name = "capture",
        description = "Run the capture endpoint alone: a Cyrus primary's sync_client pushes every"
                + " change to it over csync, and it commits them to mailstream.changes before answering OK.")
final class CaptureCommand extends Subcommand {
    @Override
    public Integer call() throws Exception {
        MailstreamConfig config = config();
        return runUntilStopped(config, List.of(role(config)));
    }

    /**
     * Capture as both {@code capture} and {@code run} start it. Being fenced by a newer capture
     * with the same server id fails the role, so the process stops and says why.
     */
    static Role role(MailstreamConfig config) {
        Role[] self = new Role[1];
        self[0] = Role.of(
                "capture",
                ctx -> Capture.start(
                        ctx.config(), ctx.bootstrapServers(), ctx.metrics(), fenced -> ctx.fail(self[0], fenced)));
        return self[0];
    }
}
