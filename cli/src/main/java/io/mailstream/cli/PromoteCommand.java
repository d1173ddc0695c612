package io.mailstream.cli;

import picocli.CommandLine.Command;

@Command(name = "promote", description = "Make a tier the replication source: move the primary role and bump the"
        + " epoch in mailstream.control, fencing the old primary.")
final class PromoteCommand extends Subcommand {
    @Override
    public Integer call() {
        throw notImplemented();
    }
}
