package io.mailstream.cli;

import picocli.CommandLine.Command;

@Command(name = "demo", description = "Run the whole pipeline on this machine: a Cyrus primary, a second-datacentre"
        + " replica, an out-of-band store and the embedded broker, fed with realistic mail; shows per-tier lag"
        + " until Ctrl-C.")
final class DemoCommand extends Subcommand {
    @Override
    public Integer call() {
        throw notImplemented(6);
    }
}
