package io.mailstream.cli;

import picocli.CommandLine.Command;

@Command(name = "check", description = "Check the configuration and that Kafka, the capture address and every"
        + " tier's target are reachable.")
final class CheckCommand extends Subcommand {
    @Override
    public Integer call() {
        throw notImplemented();
    }
}
