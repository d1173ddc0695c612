package io.mailstream.csync.realcyrus;

import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MailboxNames;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.csync.model.SieveEntry;
import io.mailstream.csync.replica.InMemoryReplica;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Pushes one user from an {@link InMemoryReplica} into an empty csync replica, the way sync_client seeds an
 * empty replica (lab conn006): per mailbox RESERVE, MESSAGE for what is missing, a full APPLY MAILBOX on the
 * target's partition; then QUOTA, SUB, SEEN and, without SIEVE-MAILBOX, SIEVE/ACTIVATE_SIEVE.
 */
final class UserPush {
    private final CsyncClient client;
    private final InMemoryReplica from;
    private final String partition;
    private final List<String> pushedNames = new ArrayList<>();

    UserPush(CsyncClient client, InMemoryReplica from, String partition) {
        this.client = client;
        this.from = from;
        this.partition = partition;
    }

    void push(String user) throws IOException, CsyncException {
        List<CsyncReply> before = client.execute(new CsyncCommand.GetUser(user));
        if (!before.isEmpty()) {
            throw new IllegalStateException("target is not empty for " + user + ": " + before);
        }
        List<Mailbox> boxes = from.mailboxes().stream()
                .filter(m -> MailboxNames.userOf(m.name()).filter(user::equals).isPresent() && !m.isTombstone())
                .sorted(Comparator.comparing(Mailbox::name))
                .toList();
        for (Mailbox m : boxes) {
            pushMailbox(m);
        }
        from.quota(MailboxNames.inboxOf(user)).ifPresent(q -> run(new CsyncCommand.ApplyQuota(q)));
        for (String sub : from.subscriptions(user)) {
            run(new CsyncCommand.ApplySub(user, sub));
        }
        from.seen(user).values().forEach(s -> run(new CsyncCommand.ApplySeen(s.withUserId(user))));
        if (!client.enabledCapabilities().contains("SIEVE-MAILBOX")) {
            from.sieveScripts(user)
                    .forEach((file, content) ->
                            run(new CsyncCommand.ApplySieve(SieveEntry.upload(user, file, 0, content))));
            from.activeSieve(user).ifPresent(name -> run(new CsyncCommand.ApplyActivateSieve(user, name + ".bc")));
        }
        client.restart();
    }

    /** Server-wide annotations ({@code MBOXNAME ""}), pushed once, not per user. */
    void pushServerAnnotations() {
        for (Annotation a : from.serverAnnotations()) {
            run(new CsyncCommand.ApplyAnnotation(a));
        }
    }

    private void pushMailbox(Mailbox m) throws IOException, CsyncException {
        List<MessageRecord> records = from.records(m.uniqueId());
        Set<Guid> guids = new LinkedHashSet<>();
        for (MessageRecord r : records) {
            if (from.body(r.guid()).isPresent()) {
                guids.add(r.guid());
            }
        }
        if (!guids.isEmpty()) {
            List<Guid> missing = new ArrayList<>();
            for (CsyncReply r : client.execute(
                    new CsyncCommand.ApplyReserve(partition, List.copyOf(pushedNames), List.copyOf(guids)))) {
                if (r instanceof CsyncReply.MissingReply mr) {
                    missing.addAll(mr.guids());
                }
            }
            List<MessageFile> files = new ArrayList<>();
            for (Guid g : missing) {
                Optional<byte[]> body = from.body(g);
                files.add(new MessageFile(partition, g, MessageBody.of(body.orElseThrow())));
            }
            if (!files.isEmpty()) {
                client.execute(new CsyncCommand.ApplyMessage(files));
            }
        }
        client.execute(new CsyncCommand.ApplyMailbox(
                m.header().withPartition(partition).withRecords(records), false));
        pushedNames.add(m.name());
    }

    private void run(CsyncCommand command) {
        try {
            client.execute(command);
        } catch (IOException | CsyncException e) {
            throw new AssertionError(command + " failed: " + e.getMessage(), e);
        }
    }
}
