package io.mailstream.bridge.apply;

import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.crc.SyncCrc;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MailboxNames;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.UserState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes folded state into a Cyrus replica over one csync session, the way Cyrus's own
 * sync_client does (spec 4.3-4.5): GET MAILBOXES, APPLY RESERVE for the GUIDs of new records,
 * APPLY MESSAGE for what the replica reports MISSING, APPLY MAILBOX with the records changed
 * since the replica's HIGHESTMODSEQ, RESTART after a batch that staged files. A CHECKSUM or
 * CHANGED answer turns into a full update (GET FULLMAILBOX, then every record). Not thread-safe,
 * like the session it drives.
 */
public final class ReplicaWriter {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaWriter.class);
    /** Cyrus's own limits: GUIDs per RESERVE, files per MESSAGE. Bytes per MESSAGE keeps one command bounded. */
    private static final int RESERVE_BATCH = 8192;

    private static final int MESSAGE_FILES = 1024;
    private static final long MESSAGE_BYTES = 64L << 20;

    private final CsyncClient csync;
    private final String partition;

    /** {@code partition}: the replica's partition, used for mailboxes and staged files alike. */
    public ReplicaWriter(CsyncClient csync, String partition) {
        this.csync = csync;
        this.partition = partition;
    }

    /** What one push did. {@code syncCrc} is the SYNC_CRC the replica confirmed, 0 when none was checked. */
    public record Pushed(String uniqueId, boolean stale, int recordsSent, int bodiesUploaded, long syncCrc) {}

    public ReplicaUser user(String userId) throws IOException, CsyncException {
        return ReplicaUser.from(csync.execute(new CsyncCommand.GetUser(userId)));
    }

    /** Runs a standalone command; a delete or rename the replica already did (NONEXISTENT) counts as done. */
    public void apply(CsyncCommand command) throws IOException, CsyncException {
        try {
            csync.execute(command);
        } catch (CsyncException e) {
            boolean alreadyGone = e.error() == CsyncError.MAILBOX_NONEXISTENT
                    && (command instanceof CsyncCommand.ApplyUnmailbox
                            || command instanceof CsyncCommand.ApplyRename
                            || command instanceof CsyncCommand.ApplyExpunge);
            if (!alreadyGone) throw e;
            LOG.debug("{}: already applied ({})", command, e.getMessage());
        }
    }

    /**
     * Asserts a user's quotas, subscriptions, sieve scripts and seen entries (as {@code sync_client -u} does),
     * and its standalone annotations: for the "#server" key, the server-wide ones.
     */
    public void pushUserState(UserState user) throws IOException, CsyncException {
        for (CsyncCommand c : EventCommands.forUser(user, user(user.getUserId()))) apply(c);
    }

    /**
     * Pushes a whole user from complete folded state (a store, canonical state): every mailbox,
     * parents first, then quotas, subscriptions, sieve, seen and standalone annotations. {@code done}
     * hears of each mailbox.
     */
    public void pushUser(
            List<MailboxState> mailboxes, Optional<UserState> user, BodySource bodies, Consumer<Pushed> done)
            throws Exception {
        List<MailboxState> ordered = mailboxes.stream()
                .filter(m -> m.getHeader() != null && !m.getDeleted())
                .sorted(Comparator.comparing(m -> m.getHeader().getName()))
                .toList();
        List<String> names = ordered.stream().map(m -> m.getHeader().getName()).toList();
        for (MailboxState m : ordered) done.accept(push(m, names, bodies, id -> Optional.of(m)));
        if (user.isPresent()) pushUserState(user.get());
    }

    /**
     * Makes the replica hold exactly {@code canonical} (a complete record set) for this mailbox,
     * whatever it holds now: a repair after the replica was changed behind mailstream's back. A
     * Cyrus replica never takes back an expunge nor lowers a modseq, so the mailbox is replaced:
     * bodies are reserved first (from the mailbox itself and the user's other folders) so that
     * none has to travel again, then the replica's copy is deleted and the canonical one applied
     * whole, with the canonical SYNC_CRCs for the replica to verify.
     */
    public Pushed replace(MailboxState canonical, BodySource bodies) throws Exception {
        MailboxUpsert header = canonical.getHeader();
        Set<Guid> needed = new LinkedHashSet<>();
        for (var r : canonical.getRecords()) {
            if (!r.getFlags().contains(MessageRecord.EXPUNGED)) needed.add(Guid.of(r.getGuid()));
        }
        Optional<Mailbox> current = byUniqueId(header);
        List<String> reserveFrom = new ArrayList<>(reserveFolders(header.getName()));
        current.ifPresent(m -> {
            if (!reserveFrom.contains(m.name())) reserveFrom.add(m.name());
        });
        int uploaded = needed.isEmpty() ? 0 : upload(missing(() -> reserveFrom, needed), bodies);
        Optional<Mailbox> sameName = first(new CsyncCommand.GetMailboxes(List.of(header.getName())));
        if (sameName.isPresent()
                && !sameName.get().isHeaderOnly()
                && !sameName.get().uniqueId().equals(header.getUniqueId())) {
            // Another mailbox took the name on the replica: it is not the canonical one.
            csync.execute(new CsyncCommand.ApplyUnmailbox(header.getName(), false));
        }
        if (current.isPresent()) {
            // Under another name (deleted into DELETED.*, renamed): back to its name first, as sync_client
            // would, since Cyrus keeps a uniqueid's tombstone under the name it was deleted from.
            if (!current.get().name().equals(header.getName())) {
                csync.execute(
                        new CsyncCommand.ApplyRename(current.get().name(), header.getName(), partition, null, false));
            }
            csync.execute(new CsyncCommand.ApplyUnmailbox(header.getName(), false));
        }
        csync.execute(
                new CsyncCommand.ApplyMailbox(MailboxTranslation.toMailbox(header, canonical.getRecords(), partition)));
        csync.restart();
        return new Pushed(header.getUniqueId(), false, canonical.getRecords().size(), uploaded, header.getSyncCrc());
    }

    /** The replica's mailbox with this uniqueid, under whatever name: GET UNIQUEIDS, else the user's GET USER (which lists DELETED.* too). */
    private Optional<Mailbox> byUniqueId(MailboxUpsert header) throws IOException, CsyncException {
        Optional<Mailbox> found = first(new CsyncCommand.GetUniqueIds(List.of(header.getUniqueId())))
                .filter(m -> !m.isHeaderOnly());
        if (found.isPresent()) return found;
        Optional<String> user = MailboxNames.userOf(header.getName());
        if (user.isEmpty()) return Optional.empty();
        return user(user.get()).mailboxes().stream()
                .filter(m -> !m.isHeaderOnly() && m.uniqueId().equals(header.getUniqueId()))
                .findFirst();
    }

    /** Deletes a mailbox the canonical state does not hold (a repair asked to remove extras). */
    public void removeMailbox(String name) throws IOException, CsyncException {
        apply(new CsyncCommand.ApplyUnmailbox(name, false));
    }

    /**
     * {@link #push(MailboxState, List, BodySource, RepairSource)} with RESERVE naming every mailbox
     * the replica holds for the mailbox's user, asked when there is a body to reserve: what
     * sync_client sends, so a copy or move of any older message is found on the replica.
     */
    public Pushed push(MailboxState state, BodySource bodies, RepairSource repair) throws Exception {
        return push(state, () -> reserveFolders(state.getHeader().getName()), bodies, repair);
    }

    /**
     * Brings one mailbox on the replica up to {@code state} (its header and at least every record
     * changed since the replica's HIGHESTMODSEQ). A replica already past the header (a replayed
     * event) is left alone: later events bring it forward. {@code reserveFrom} names the mailboxes
     * where the replica may already hold bodies (a copy or move), as RESERVE wants them.
     */
    public Pushed push(MailboxState state, List<String> reserveFrom, BodySource bodies, RepairSource repair)
            throws Exception {
        return push(state, () -> reserveFrom, bodies, repair);
    }

    /** The mailboxes RESERVE names; asked only when a push has bodies to reserve. */
    @FunctionalInterface
    private interface ReserveFrom {
        List<String> names() throws IOException, CsyncException;
    }

    /**
     * Where the replica may hold a body already. For a personal mailbox: every mailbox of its user
     * on the replica (GET USER), as sync_client's RESERVE lists the replica's folders. A shared
     * tree cannot be listed over csync, so there only the mailbox itself; what is not found there
     * comes from the body source.
     */
    private List<String> reserveFolders(String mboxName) throws IOException, CsyncException {
        Optional<String> user = MailboxNames.userOf(mboxName);
        if (user.isEmpty()) return List.of(mboxName);
        return user(user.get()).mailboxes().stream()
                .filter(m -> !m.isHeaderOnly())
                .map(Mailbox::name)
                .toList();
    }

    private Pushed push(MailboxState state, ReserveFrom reserveFrom, BodySource bodies, RepairSource repair)
            throws Exception {
        MailboxUpsert header = state.getHeader();
        Optional<Mailbox> replica = replicaMailbox(header);
        boolean same = replica.isPresent()
                && replica.get().uniqueId().equals(header.getUniqueId())
                && !replica.get().isHeaderOnly();
        if (same && replica.get().highestModSeq() > header.getHighestModseq()) {
            // Also the case of a replayed header whose mailbox was renamed since: never move it back.
            return new Pushed(header.getUniqueId(), true, 0, 0, 0);
        }
        long since = same ? replica.get().highestModSeq() : -1;
        long replicaLastUid = same ? replica.get().lastUid() : 0;
        List<io.mailstream.schemas.MessageRecord> delta =
                state.getRecords().stream().filter(r -> r.getModseq() > since).toList();
        try {
            return send(header, delta, replicaLastUid, reserveFrom, bodies);
        } catch (CsyncException e) {
            if (e.error() != CsyncError.SYNC_CHECKSUM && e.error() != CsyncError.SYNC_CHANGED) throw e;
            LOG.warn("{} ({}): replica says {}; full update", header.getName(), header.getUniqueId(), e.getMessage());
            return fullUpdate(state, reserveFrom, bodies, repair);
        }
    }

    /**
     * Cyrus's full update (spec 4.5) with this side as the master: compare record by record with
     * GET FULLMAILBOX, adopt the replica's higher modseqs, UIDVALIDITY, LAST_UID and expunges (a
     * replica cannot un-expunge), expunge there what the canonical state does not hold, then send
     * every record with checksums computed over them.
     */
    private Pushed fullUpdate(MailboxState view, ReserveFrom reserveFrom, BodySource bodies, RepairSource repair)
            throws Exception {
        MailboxUpsert header = view.getHeader();
        // Only a canonical state of this mailbox under this name may decide what the replica loses:
        // renamed back and forth between keys, mailstream.state can briefly hold a former copy.
        Optional<MailboxState> canonical = repair.canonical(header.getUniqueId())
                .filter(c -> c.getHeader() != null && c.getHeader().getName().equals(header.getName()));
        TreeMap<Long, io.mailstream.schemas.MessageRecord> ours = new TreeMap<>();
        canonical.ifPresent(c -> c.getRecords().stream()
                .filter(r -> r.getUid() <= header.getLastUid())
                .forEach(r -> ours.put(r.getUid(), r)));
        for (var r : view.getRecords()) ours.merge(r.getUid(), r, (c, v) -> v.getModseq() >= c.getModseq() ? v : c);

        Optional<Mailbox> full =
                fullMailbox(header.getName()).filter(m -> m.uniqueId().equals(header.getUniqueId()));
        MailboxUpsert.Builder h = MailboxUpsert.newBuilder(header);
        List<Long> stale = new ArrayList<>();
        if (full.isPresent()) {
            Mailbox replica = full.get();
            h.setHighestModseq(Math.max(h.getHighestModseq(), replica.highestModSeq()))
                    .setLastUid(Math.max(h.getLastUid(), replica.lastUid()))
                    .setUidValidity(Math.max(h.getUidValidity(), replica.uidValidity()));
            for (MessageRecord theirs : replica.records()) {
                io.mailstream.schemas.MessageRecord mine = ours.get(theirs.uid());
                if (mine == null) {
                    if (!theirs.isExpunged() && canonical.isPresent() && theirs.uid() <= header.getLastUid())
                        stale.add(theirs.uid());
                    else if (!theirs.isExpunged())
                        LOG.warn("{}: replica-only message UID {} left alone", header.getName(), theirs.uid());
                    continue;
                }
                if (!mine.getGuid().equals(theirs.guid().hex())) {
                    LOG.error(
                            "{}: UID {} is {} here and {} on the replica (split brain); needs an operator",
                            header.getName(),
                            theirs.uid(),
                            mine.getGuid(),
                            theirs.guid().hex());
                    continue;
                }
                var adjusted = io.mailstream.schemas.MessageRecord.newBuilder(mine)
                        .setModseq(Math.max(mine.getModseq(), theirs.modSeq()));
                if (theirs.isExpunged() && !mine.getFlags().contains(MessageRecord.EXPUNGED)) {
                    adjusted.setFlags(
                            MailboxTranslation.toRecord(mine).expunged().flags());
                }
                ours.put(theirs.uid(), adjusted.build());
            }
        }
        List<io.mailstream.schemas.MessageRecord> records = new ArrayList<>(ours.values());
        long highest = records.stream()
                .mapToLong(io.mailstream.schemas.MessageRecord::getModseq)
                .max()
                .orElse(0);
        h.setHighestModseq(Math.max(h.getHighestModseq(), highest));
        SyncCrc.Pair crcs =
                SyncCrc.of(records.stream().map(MailboxTranslation::toRecord).toList());
        h.setSyncCrc(crcs.basic()).setSyncCrcAnnot(crcs.annot());
        if (!stale.isEmpty()) {
            LOG.warn(
                    "{}: expunging {} record(s) the canonical state does not hold: {}",
                    header.getName(),
                    stale.size(),
                    stale);
            csync.execute(new CsyncCommand.ApplyExpunge(header.getName(), header.getUniqueId(), stale));
        }
        return send(h.build(), records, full.map(Mailbox::lastUid).orElse(0L), reserveFrom, bodies);
    }

    private Pushed send(
            MailboxUpsert header,
            List<io.mailstream.schemas.MessageRecord> records,
            long replicaLastUid,
            ReserveFrom reserveFrom,
            BodySource bodies)
            throws IOException, CsyncException {
        Set<Guid> needed = new LinkedHashSet<>();
        for (var r : records) {
            if (r.getUid() > replicaLastUid && !r.getFlags().contains(MessageRecord.EXPUNGED))
                needed.add(Guid.of(r.getGuid()));
        }
        int uploaded = needed.isEmpty() ? 0 : upload(missing(reserveFrom, needed), bodies);
        csync.execute(new CsyncCommand.ApplyMailbox(MailboxTranslation.toMailbox(header, records, partition)));
        // The staged files are in the mailbox now; RESTART frees the session's staging area.
        if (uploaded > 0) csync.restart();
        return new Pushed(header.getUniqueId(), false, records.size(), uploaded, header.getSyncCrc());
    }

    private List<Guid> missing(ReserveFrom from, Set<Guid> guids) throws IOException, CsyncException {
        List<Guid> all = new ArrayList<>(guids);
        List<String> reserveFrom = from.names();
        // Nowhere to look (sync_client skips RESERVE then, too): every body is sent.
        if (reserveFrom.isEmpty()) return all;
        List<Guid> missing = new ArrayList<>();
        for (int i = 0; i < all.size(); i += RESERVE_BATCH) {
            List<Guid> batch = all.subList(i, Math.min(all.size(), i + RESERVE_BATCH));
            for (CsyncReply r : csync.execute(new CsyncCommand.ApplyReserve(partition, reserveFrom, batch))) {
                if (r instanceof CsyncReply.MissingReply m) missing.addAll(m.guids());
            }
        }
        return missing;
    }

    private int upload(List<Guid> guids, BodySource bodies) throws IOException, CsyncException {
        if (guids.isEmpty()) return 0;
        bodies.prefetch(guids);
        List<MessageFile> batch = new ArrayList<>();
        long bytes = 0;
        for (Guid guid : guids) {
            MessageBody body = bodies.open(guid)
                    .orElseThrow(() -> new IllegalStateException(
                            "body " + guid.hex() + " is missing on the replica and not available to send"));
            if (!batch.isEmpty() && (batch.size() >= MESSAGE_FILES || bytes + body.size() > MESSAGE_BYTES)) {
                csync.execute(new CsyncCommand.ApplyMessage(batch));
                batch.clear();
                bytes = 0;
            }
            batch.add(new MessageFile(partition, guid, body));
            bytes += body.size();
        }
        if (!batch.isEmpty()) csync.execute(new CsyncCommand.ApplyMessage(batch));
        return guids.size();
    }

    /**
     * The replica's header of this mailbox, by name; if the name is free but the uniqueid lives
     * under another name, a rename the replica has not seen yet (or already has, when this header
     * is a replay) is caught up first, so that APPLY MAILBOX does not fail with MAILBOX_MOVED.
     */
    private Optional<Mailbox> replicaMailbox(MailboxUpsert header) throws IOException, CsyncException {
        Optional<Mailbox> byName = first(new CsyncCommand.GetMailboxes(List.of(header.getName())));
        if (byName.isPresent()) return byName;
        Optional<Mailbox> byId = first(new CsyncCommand.GetUniqueIds(List.of(header.getUniqueId())));
        if (byId.isEmpty() || byId.get().isHeaderOnly() || byId.get().highestModSeq() > header.getHighestModseq())
            return byId;
        LOG.info(
                "{} is {} on the replica: renaming",
                header.getName(),
                byId.get().name());
        csync.execute(new CsyncCommand.ApplyRename(byId.get().name(), header.getName(), partition, null, false));
        return Optional.of(byId.get().withName(header.getName()));
    }

    private Optional<Mailbox> first(CsyncCommand get) throws IOException, CsyncException {
        for (CsyncReply r : csync.execute(get)) {
            if (r instanceof CsyncReply.MailboxReply m) return Optional.of(m.mailbox());
        }
        return Optional.empty();
    }

    private Optional<Mailbox> fullMailbox(String name) throws IOException, CsyncException {
        try {
            for (CsyncReply r : csync.execute(new CsyncCommand.GetFullMailbox(name))) {
                if (r instanceof CsyncReply.MailboxReply m) return Optional.of(m.mailbox());
            }
        } catch (CsyncException e) {
            if (e.error() != CsyncError.MAILBOX_NONEXISTENT) throw e;
        }
        return Optional.empty();
    }
}
