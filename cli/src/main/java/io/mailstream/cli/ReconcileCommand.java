package io.mailstream.cli;

import picocli.CommandLine.Command;

@Command(name = "reconcile", description = "Repair the mailboxes of a tier that differ from the canonical state.")
final class ReconcileCommand extends Subcommand {
    @Override
    public Integer call() {
        throw notImplemented();
    }
}
