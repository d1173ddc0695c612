package io.mailstream.bridge.state;

import io.mailstream.bridge.capture.CaptureTranslator;
import io.mailstream.bridge.capture.PartitionKeys;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.SeenEntry;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.UserState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A live Cyrus read over csync, as sync_client reads its replica: GET USER for a user's mailbox
 * headers (with Cyrus's own SYNC_CRCs), quotas, seen entries and subscriptions; GET FULLMAILBOX
 * for one mailbox's records. Sieve scripts are the user's {@code #sieve} mailbox when the session
 * enabled SIEVE-MAILBOX (as capture and the Cyrus sink do), so they are compared as a mailbox.
 * Read-only: nothing here changes the server.
 */
public final class CyrusState implements StateSource {
    private final String name;
    private final CsyncClient csync;

    /** {@code csync} stays the caller's to close. */
    public CyrusState(String name, CsyncClient csync) {
        this.name = name;
        this.csync = csync;
    }

    @Override
    public String describe() {
        return name;
    }

    @Override
    public boolean computesOwnCrcs() {
        return true;
    }

    @Override
    public List<String> users() {
        throw new UnsupportedOperationException("csync cannot list the users of " + name);
    }

    @Override
    public List<MailboxState> mailboxes(String partitionKey, boolean withRecords) throws IOException, CsyncException {
        List<Mailbox> headers = new ArrayList<>();
        if (PartitionKeys.SERVER.equals(partitionKey)) return List.of();
        for (CsyncReply r : csync.execute(new CsyncCommand.GetUser(partitionKey))) {
            if (r instanceof CsyncReply.MailboxReply m) headers.add(m.mailbox());
        }
        if (headers.isEmpty()) {
            // Not a user: a shared tree, which csync cannot list; its top-level folder is what GET MAILBOXES names.
            for (CsyncReply r : csync.execute(new CsyncCommand.GetMailboxes(List.of(partitionKey)))) {
                if (r instanceof CsyncReply.MailboxReply m) headers.add(m.mailbox());
            }
        }
        List<MailboxState> out = new ArrayList<>();
        for (Mailbox m : headers) {
            if (m.isHeaderOnly()) continue; // intermediates carry no mail
            if (withRecords)
                fullMailbox(partitionKey, m.name())
                        .filter(f -> f.uniqueId().equals(m.uniqueId()))
                        .ifPresent(f -> out.add(state(partitionKey, f)));
            else out.add(state(partitionKey, m));
        }
        out.sort(Comparator.comparing(s -> s.getHeader().getName()));
        return out;
    }

    @Override
    public Optional<MailboxState> mailbox(String partitionKey, String uniqueId, String name)
            throws IOException, CsyncException {
        Optional<Mailbox> full = name == null
                ? Optional.empty()
                : fullMailbox(partitionKey, name).filter(m -> m.uniqueId().equals(uniqueId));
        if (full.isEmpty()) {
            // Renamed on this server: look it up by uniqueid, then read it under its name there.
            for (CsyncReply r : csync.execute(new CsyncCommand.GetUniqueIds(List.of(uniqueId)))) {
                if (r instanceof CsyncReply.MailboxReply m && !m.mailbox().isHeaderOnly()) {
                    full = fullMailbox(partitionKey, m.mailbox().name())
                            .filter(f -> f.uniqueId().equals(uniqueId));
                }
            }
        }
        return full.map(m -> state(partitionKey, m));
    }

    @Override
    public Optional<UserState> user(String partitionKey) throws IOException, CsyncException {
        if (PartitionKeys.SERVER.equals(partitionKey)) return Optional.empty();
        List<SeenUpsert> seen = new ArrayList<>();
        List<String> subscriptions = new ArrayList<>();
        List<QuotaUpsert> quotas = new ArrayList<>();
        for (CsyncReply r : csync.execute(new CsyncCommand.GetUser(partitionKey))) {
            if (r instanceof CsyncReply.SeenReply s) seen.add(seen(partitionKey, s.seen()));
            else if (r instanceof CsyncReply.LsubReply l) subscriptions.addAll(l.mboxNames());
            else if (r instanceof CsyncReply.QuotaReply q
                    && PartitionKeys.ofMailbox(q.quota().root()).equals(partitionKey)) {
                quotas.add(CaptureTranslator.quota(q.quota()));
            }
        }
        if (seen.isEmpty() && subscriptions.isEmpty() && quotas.isEmpty()) return Optional.empty();
        seen.sort(Comparator.comparing(SeenUpsert::getUniqueId));
        subscriptions.sort(null);
        quotas.sort(Comparator.comparing(QuotaUpsert::getRoot));
        return Optional.of(UserState.newBuilder()
                .setUserId(partitionKey)
                .setSeen(seen)
                .setSubscriptions(subscriptions)
                .setSieveScripts(new ArrayList<>())
                .setActiveSieve(null)
                .setQuotas(quotas)
                .setAnnotations(new ArrayList<>())
                .setLastEventId("")
                .setLastCaptureTime(0)
                .setDeleted(false)
                .build());
    }

    private static SeenUpsert seen(String user, SeenEntry s) {
        return SeenUpsert.newBuilder()
                .setUserId(user)
                .setUniqueId(s.uniqueId())
                .setLastRead(s.lastRead())
                .setLastUid(s.lastUid())
                .setLastChange(s.lastChange())
                .setSeenUids(s.seenUids())
                .build();
    }

    private Optional<Mailbox> fullMailbox(String partitionKey, String name) throws IOException, CsyncException {
        try {
            for (CsyncReply r : csync.execute(new CsyncCommand.GetFullMailbox(name))) {
                if (r instanceof CsyncReply.MailboxReply m) return Optional.of(m.mailbox());
            }
        } catch (CsyncException e) {
            if (e.error() != CsyncError.MAILBOX_NONEXISTENT) throw e;
        }
        return Optional.empty();
    }

    /** A Cyrus mailbox as folded state; the SYNC_CRCs are Cyrus's own, as GET reports them. */
    static MailboxState state(String partitionKey, Mailbox m) {
        return MailboxState.newBuilder()
                .setHeader(CaptureTranslator.header(m))
                .setRecords(new ArrayList<>(
                        m.records().stream().map(CaptureTranslator::record).toList()))
                .setPartitionKey(partitionKey)
                .setLastEventId("")
                .setLastCaptureTime(0)
                .setDeleted(false)
                .build();
    }
}
