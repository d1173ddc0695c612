package io.mailstream.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

@Command(name = "rebuild", description = "Push users from an out-of-band store into a Cyrus sync_server (everything,"
        + " including sieve, seen and subscriptions), with a progress bar.")
final class RebuildCommand extends Subcommand {
    @Option(names = "--from-store", required = true, paramLabel = "DIR", description = "The store's folder.")
    Path fromStore;

    @Option(names = "--to", required = true, paramLabel = "HOST:PORT", description = "The target Cyrus sync_server.")
    String to;

    @Option(names = "--user", paramLabel = "USERID", description = "A user to push (repeatable; none: every user in the store).")
    List<String> users;

    @Override
    public Integer call() {
        throw notImplemented(6);
    }
}
