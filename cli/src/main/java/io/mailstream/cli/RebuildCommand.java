package io.mailstream.cli;

import io.mailstream.bridge.apply.ReplicaWriter;
import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.progress.ProgressBar;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.operations.Rebuild;
import io.mailstream.sinks.StoreReader;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "rebuild",
        description = "Push users from an out-of-band store into a Cyrus sync_server (everything,"
                + " including sieve, seen and subscriptions), with a progress bar.")
final class RebuildCommand extends Subcommand {
    static final String PASSWORD_ENV = "MAILSTREAM_REBUILD_PASSWORD";

    @Option(names = "--from-store", required = true, paramLabel = "DIR", description = "The store's folder.")
    Path fromStore;

    @Option(names = "--to", required = true, paramLabel = "HOST:PORT", description = "The target Cyrus sync_server.")
    String to;

    @Option(
            names = "--user",
            paramLabel = "USERID",
            description = "A user to push (repeatable; none: every user in the store).")
    List<String> users;

    @Option(
            names = "--auth-user",
            paramLabel = "USER",
            defaultValue = "admin",
            description = "csync user on the target, a Cyrus admin there (default: ${DEFAULT-VALUE}).")
    String authUser;

    // No option takes the password itself: a command line is visible to every local user in ps.
    @Option(
            names = "--auth-password-file",
            paramLabel = "FILE",
            description =
                    "File whose first line is its password (default: the " + PASSWORD_ENV + " environment variable).")
    Path authPasswordFile;

    @Option(
            names = "--partition",
            paramLabel = "NAME",
            defaultValue = "default",
            description = "Partition on the target for mailboxes and bodies (default: ${DEFAULT-VALUE}).")
    String partition;

    @Override
    public Integer call() throws Exception {
        String password;
        try {
            password = authPasswordFile != null
                    ? MailstreamConfig.readPasswordFile(authPasswordFile, "rebuild --auth-password-file")
                    : root.env().get(PASSWORD_ENV);
        } catch (ConfigException e) {
            err().println("rebuild: " + e.getMessage());
            return Main.USAGE;
        }
        if (password == null || password.isEmpty()) {
            err().println("rebuild: give --auth-password-file FILE or set " + PASSWORD_ENV);
            return Main.USAGE;
        }
        int colon = to.lastIndexOf(':');
        if (colon <= 0) {
            err().println("rebuild: --to must be HOST:PORT, got '" + to + "'");
            return Main.USAGE;
        }
        StoreReader store = StoreReader.open(fromStore);
        Rebuild.Plan plan;
        try {
            plan = Rebuild.plan(store, users);
        } catch (IllegalArgumentException e) {
            err().println("rebuild: " + e.getMessage());
            return Main.FAILURE;
        }
        // Sieve scripts live in the user.X.#sieve mailbox, which needs SIEVE-MAILBOX enabled on the target.
        CsyncClientConfig target = CsyncClientConfig.of(
                        to.substring(0, colon), Integer.parseInt(to.substring(colon + 1)), authUser, password)
                .withSieveMailbox(true);
        Rebuild.Result result;
        try (CsyncClient csync = CsyncClient.connect(target);
                ProgressBar bar = ProgressBar.onStderr(plan.messages(), "messages")) {
            result = Rebuild.push(
                    plan, new ReplicaWriter(csync, partition), store::body, records -> bar.advance(records, 0));
        }
        out().printf(
                        "rebuild: %d users, %d mailboxes, %d messages pushed from %s to %s%n",
                        result.users(), result.mailboxes(), result.messages(), fromStore, to);
        return Main.OK;
    }
}
