package io.mailstream.cli;

import picocli.CommandLine.Command;

@Command(name = "status", description = "Show, per tier, how far behind the canonical state it is (events and"
        + " seconds) and which mailboxes differ from it.")
final class StatusCommand extends Subcommand {
    @Override
    public Integer call() {
        throw notImplemented(5);
    }
}
