package io.mailstream.cli;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.streams.StatusReport;
import picocli.CommandLine.Command;

@Command(name = "status", description = "Show, per tier, how far behind the canonical state it is (events and"
        + " seconds) and which mailboxes differ from it.")
final class StatusCommand extends Subcommand {
    @Override
    public Integer call() {
        MailstreamConfig config = config();
        StatusReport report = StatusReport.compute(config, KafkaAddress.of(config));
        out().print(report.render());
        out().flush();
        return 0;
    }
}
