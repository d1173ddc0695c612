package io.mailstream.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "events", description = "Print the change events of mailstream.changes as JSON lines"
        + " (message bodies as GUID and size).")
final class EventsCommand extends Subcommand {
    @Option(names = "--user", paramLabel = "USERID", description = "Only this user's events.")
    String user;

    @Option(names = "--mailbox", paramLabel = "NAME|UNIQUEID", description = "Only this mailbox's events.")
    String mailbox;

    @Option(names = "--from-beginning", description = "Start at the oldest event instead of the newest.")
    boolean fromBeginning;

    @Option(names = "--follow", description = "Keep printing new events until Ctrl-C.")
    boolean follow;

    @Override
    public Integer call() {
        throw notImplemented(4);
    }
}
