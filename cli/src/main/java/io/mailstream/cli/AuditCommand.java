package io.mailstream.cli;

import picocli.CommandLine.Command;

@Command(name = "audit", description = "Compare every tier with the canonical state (SYNC_CRC per mailbox) and"
        + " report differences, without repairing them.")
final class AuditCommand extends Subcommand {
    @Override
    public Integer call() {
        throw notImplemented();
    }
}
