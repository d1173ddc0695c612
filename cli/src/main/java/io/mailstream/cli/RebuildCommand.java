package io.mailstream.cli;

import io.mailstream.bridge.apply.BodySource;
import io.mailstream.bridge.apply.ReplicaWriter;
import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.progress.ProgressBar;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.schemas.MailboxState;
import io.mailstream.sinks.StoreReader;
import io.mailstream.sinks.StoredBody;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

@Command(name = "rebuild", description = "Push users from an out-of-band store into a Cyrus sync_server (everything,"
        + " including sieve, seen and subscriptions), with a progress bar.")
final class RebuildCommand extends Subcommand {
    static final String PASSWORD_ENV = "MAILSTREAM_REBUILD_PASSWORD";

    @Option(names = "--from-store", required = true, paramLabel = "DIR", description = "The store's folder.")
    Path fromStore;

    @Option(names = "--to", required = true, paramLabel = "HOST:PORT", description = "The target Cyrus sync_server.")
    String to;

    @Option(names = "--user", paramLabel = "USERID", description = "A user to push (repeatable; none: every user in the store).")
    List<String> users;

    @Option(names = "--auth-user", paramLabel = "USER", defaultValue = "admin",
            description = "csync user on the target, a Cyrus admin there (default: ${DEFAULT-VALUE}).")
    String authUser;

    // No option takes the password itself: a command line is visible to every local user in ps.
    @Option(names = "--auth-password-file", paramLabel = "FILE",
            description = "File whose first line is its password (default: the " + PASSWORD_ENV + " environment variable).")
    Path authPasswordFile;

    @Option(names = "--partition", paramLabel = "NAME", defaultValue = "default",
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
        List<String> chosen = users == null || users.isEmpty() ? store.users() : users;
        Map<String, List<MailboxState>> mailboxes = new LinkedHashMap<>();
        long messages = 0;
        for (String user : chosen) {
            List<MailboxState> boxes = store.mailboxes(user);
            if (boxes.isEmpty() && store.userState(user).isEmpty()) {
                err().println("rebuild: the store holds nothing for user " + user);
                return Main.FAILURE;
            }
            mailboxes.put(user, boxes);
            messages += boxes.stream().mapToLong(m -> m.getRecords().size()).sum();
        }
        // Sieve scripts live in the user.X.#sieve mailbox, which needs SIEVE-MAILBOX enabled on the target.
        CsyncClientConfig target = CsyncClientConfig.of(to.substring(0, colon), Integer.parseInt(to.substring(colon + 1)), authUser, password)
                .withSieveMailbox(true);
        long mailboxCount = 0;
        try (CsyncClient csync = CsyncClient.connect(target);
             ProgressBar bar = ProgressBar.onStderr(messages, "messages")) {
            ReplicaWriter writer = new ReplicaWriter(csync, partition);
            BodySource bodies = guid -> body(store, guid.hex());
            for (Map.Entry<String, List<MailboxState>> user : mailboxes.entrySet()) {
                writer.pushUser(user.getValue(), store.userState(user.getKey()), bodies, pushed -> bar.advance(pushed.recordsSent(), 0));
                mailboxCount += user.getValue().size();
            }
        }
        out().printf("rebuild: %d users, %d mailboxes, %d messages pushed from %s to %s%n", chosen.size(), mailboxCount, messages, fromStore, to);
        return Main.OK;
    }

    /** Store bodies are gzip files; csync wants a length up front, so each is read whole (Cyrus bodies are bounded). */
    private static Optional<MessageBody> body(StoreReader store, String guid) throws IOException {
        try (StoredBody stored = store.openBody(guid)) {
            return Optional.of(MessageBody.of(stored.content().readAllBytes()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }
}
