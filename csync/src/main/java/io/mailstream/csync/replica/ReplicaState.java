package io.mailstream.csync.replica;

import io.mailstream.csync.crc.SyncCrc;
import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DKvList;
import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncCommand.*;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MailboxNames;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.csync.model.SeenEntry;
import io.mailstream.csync.model.SieveEntry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * What a Cyrus 3.6 replica holds, without message bodies, and how it judges an APPLY (spec 3):
 * per mailbox the header as received (every key, unknown ones included, minus RECORD and
 * SINCE_*) and the full record index; per user seen entries, subscriptions, sieve scripts and
 * quotas; server annotations. {@link #check} refuses what a replica would refuse without
 * changing anything, {@link #apply} commits a checked command; the split lets a caller put
 * work between the two (capture publishes to Kafka there). The GET reply builders answer from
 * this state. Thread-safe: every method holds this object's monitor, so a caller that needs
 * several calls to be atomic synchronises on it too; reads return immutable snapshots.
 */
public final class ReplicaState {
    /** Which SYNC_CRC/SYNC_CRC_ANNOT the mailbox headers of GET replies and reads carry. */
    public enum CrcReport {
        /** The master's, as last received: the reference replica echoes headers unchanged. */
        AS_RECEIVED,
        /** Computed from our records, as a real replica reports them (the capture's shadow). */
        COMPUTED
    }

    /** One stored mailbox: its header and its record index by UID. */
    private static final class Box {
        Mailbox header;
        final TreeMap<Long, MessageRecord> records;

        Box(Mailbox header, TreeMap<Long, MessageRecord> records) {
            this.header = header;
            this.records = records;
        }
    }

    private final CrcReport crcReport;
    private final Map<String, Box> byUniqueId = new LinkedHashMap<>();
    private final Map<String, String> uniqueIdByName = new HashMap<>();
    /** Per user, by mailbox uniqueid, as APPLY SEEN sent them (with USERID, so {@link #asCommands} can replay them). */
    private final Map<String, Map<String, SeenEntry>> seen = new TreeMap<>();

    private final Map<String, TreeSet<String>> subscriptions = new TreeMap<>();
    private final Map<String, TreeMap<String, SieveEntry>> sieveScripts = new TreeMap<>();
    private final Map<String, String> activeSieve = new TreeMap<>();
    private final Map<String, QuotaRoot> quotas = new TreeMap<>();
    private final Map<String, Annotation> serverAnnotations = new LinkedHashMap<>();

    public ReplicaState(CrcReport crcReport) {
        this.crcReport = crcReport;
    }

    // ---- reads (snapshots) ---------------------------------------------------------------------

    /** Header of the mailbox with that name (no RECORD). */
    public synchronized Optional<Mailbox> mailbox(String name) {
        return Optional.ofNullable(box(name)).map(this::reported);
    }

    public synchronized Optional<Mailbox> mailboxByUniqueId(String uniqueId) {
        return Optional.ofNullable(byUniqueId.get(uniqueId)).map(this::reported);
    }

    /** Every stored mailbox header, intermediates and tombstones included. */
    public synchronized List<Mailbox> mailboxes() {
        return byUniqueId.values().stream().map(this::reported).toList();
    }

    /** Record index of a mailbox by uniqueid, ascending UID, expunged records included. */
    public synchronized List<MessageRecord> records(String uniqueId) {
        Box b = byUniqueId.get(uniqueId);
        return b == null ? List.of() : List.copyOf(b.records.values());
    }

    /** Our own CRCs of a mailbox, computed from its records. */
    public synchronized Optional<SyncCrc.Pair> crcs(String uniqueId) {
        Box b = byUniqueId.get(uniqueId);
        return b == null ? Optional.empty() : Optional.of(SyncCrc.of(b.records.values()));
    }

    /** GUIDs of the live records (not expunged) in the mailboxes whose names match. */
    public synchronized Set<Guid> liveRecordGuids(Predicate<String> mailboxNames) {
        Set<Guid> out = new HashSet<>();
        for (Box b : byUniqueId.values()) {
            if (mailboxNames.test(b.header.name())) {
                b.records.values().stream().filter(r -> !r.isExpunged()).forEach(r -> out.add(r.guid()));
            }
        }
        return out;
    }

    /** Users that own at least one stored mailbox. */
    public synchronized Set<String> users() {
        Set<String> users = new TreeSet<>();
        for (Box b : byUniqueId.values()) {
            MailboxNames.userOf(b.header.name()).ifPresent(users::add);
        }
        return users;
    }

    /** Seen entries of a user by mailbox uniqueid (reply form, no USERID). */
    public synchronized Map<String, SeenEntry> seen(String userId) {
        Map<String, SeenEntry> out = new LinkedHashMap<>();
        seen.getOrDefault(userId, Map.of()).forEach((id, s) -> out.put(id, s.withoutUserId()));
        return Map.copyOf(out);
    }

    public synchronized Set<String> subscriptions(String userId) {
        return Set.copyOf(subscriptions.getOrDefault(userId, new TreeSet<>()));
    }

    /** Sieve scripts of a user by file name ({@code <name>.script}). */
    public synchronized Map<String, byte[]> sieveScripts(String userId) {
        Map<String, byte[]> out = new TreeMap<>();
        sieveScripts
                .getOrDefault(userId, new TreeMap<>())
                .forEach((k, v) -> out.put(k, v.content().clone()));
        return out;
    }

    /** Name (without extension) of the user's active script. */
    public synchronized Optional<String> activeSieve(String userId) {
        return Optional.ofNullable(activeSieve.get(userId));
    }

    public synchronized Optional<QuotaRoot> quota(String root) {
        return Optional.ofNullable(quotas.get(root));
    }

    /** Server-level annotations (APPLY ANNOTATION with MBOXNAME ""). */
    public synchronized List<Annotation> serverAnnotations() {
        return List.copyOf(serverAnnotations.values());
    }

    // ---- GET replies (spec 3.1) ----------------------------------------------------------------

    /** GET USER: mailboxes (tombstones excluded, no RECORD), quotas, then meta if a real mailbox exists. */
    public synchronized List<CsyncReply> user(String userId, boolean sieveMailbox) {
        List<CsyncReply> out = new ArrayList<>();
        List<Box> boxes = boxesOf(userId);
        boxes.forEach(b -> out.add(new CsyncReply.MailboxReply(reported(b))));
        for (QuotaRoot q : quotas.values()) {
            String root = q.root();
            if (boxes.stream().map(b -> b.header.name()).anyMatch(n -> n.equals(root) || n.startsWith(root + "."))) {
                out.add(new CsyncReply.QuotaReply(q));
            }
        }
        if (boxes.stream().anyMatch(b -> !b.header.isIntermediate())) {
            out.addAll(meta(userId, sieveMailbox));
        }
        return out;
    }

    /** GET MAILBOXES: the existing ones among the names, tombstones skipped. */
    public synchronized List<Mailbox> mailboxesNamed(List<String> names) {
        return live(names.stream().map(this::box).toList());
    }

    /** GET UNIQUEIDS: the existing ones among the uniqueids, tombstones skipped. */
    public synchronized List<Mailbox> mailboxesWithUniqueIds(List<String> uniqueIds) {
        return live(uniqueIds.stream().map(byUniqueId::get).toList());
    }

    /** GET FULLMAILBOX: the header with every record. */
    public synchronized Mailbox fullMailbox(String name) throws CsyncException {
        Box b = require(name);
        return reported(b).withRecords(List.copyOf(b.records.values()));
    }

    /** GET META: seen entries, subscriptions and (without SIEVE-MAILBOX) the sieve listing. */
    public synchronized List<CsyncReply> meta(String userId, boolean sieveMailbox) {
        List<CsyncReply> out = new ArrayList<>();
        seen.getOrDefault(userId, Map.of()).values().forEach(s -> out.add(new CsyncReply.SeenReply(s.withoutUserId())));
        TreeSet<String> subs = subscriptions.get(userId);
        if (subs != null && !subs.isEmpty()) {
            out.add(new CsyncReply.LsubReply(List.copyOf(subs)));
        }
        if (!sieveMailbox) {
            sieveScripts
                    .getOrDefault(userId, new TreeMap<>())
                    .forEach((file, s) ->
                            // Real 3.6.1 lists the SHA-1 of the script text as GUID (not the #sieve message's GUID),
                            // so the master compares by content rather than by date.
                            out.add(new CsyncReply.SieveReply(SieveEntry.listing(file, s.lastUpdate(), false)
                                    .withGuid(Guid.sha1(s.content())))));
            String active = activeSieve.get(userId);
            if (active != null) {
                out.add(new CsyncReply.SieveReply(
                        SieveEntry.listing(active + ".bc", 0, true).withGuid(Guid.NULL)));
            }
        }
        return out;
    }

    /** GET ANNOTATION: a mailbox's annotations, or for {@code ""} the server's, each with MBOXNAME set. */
    public synchronized List<Annotation> annotations(String mboxName) throws CsyncException {
        if (mboxName.isEmpty()) {
            return List.copyOf(serverAnnotations.values());
        }
        return require(mboxName).header.annotations().stream()
                .map(a -> Annotation.forMailbox(mboxName, a.entry(), a.userId(), a.value()))
                .toList();
    }

    /** GET FETCH_SIEVE: the script's text. */
    public synchronized SieveEntry sieveScript(String userId, String fileName) throws CsyncException {
        SieveEntry s = sieveScripts.getOrDefault(userId, new TreeMap<>()).get(fileName);
        if (s == null) {
            throw new CsyncException(CsyncError.MAILBOX_NONEXISTENT, "no script " + fileName);
        }
        return SieveEntry.from(DKvList.of(List.of(
                new DKvList.Entry("USERID", DAtom.of(userId)),
                new DKvList.Entry("FILENAME", DAtom.of(fileName)),
                new DKvList.Entry("CONTENT", DAtom.of(s.content())))));
    }

    // ---- validation (spec 3.2 steps 1-5) -------------------------------------------------------

    /**
     * Refuses what a Cyrus replica would refuse, without changing anything. {@code hasBody} tells
     * whether the caller can supply a message body: a new live record needs one. Returns the
     * GUIDs of the records that are new to this replica (above its LAST_UID), whose bodies a
     * replica that keeps them takes on {@link #apply}.
     */
    public synchronized Set<Guid> check(CsyncCommand command, boolean force, Predicate<Guid> hasBody)
            throws CsyncException {
        if (command instanceof ApplyMailbox m) {
            return checkMailbox(m.mailbox(), force, hasBody);
        } else if (command instanceof ApplyRename r) {
            Box b = require(r.oldName());
            Box target = box(r.newName());
            if (target != null && target != b) {
                throw new CsyncException(CsyncError.MAILBOX_MOVED, r.newName() + " exists");
            }
        } else if (command instanceof ApplyUnmailbox u) {
            require(u.name());
        } else if (command instanceof ApplyExpunge e) {
            if (!require(e.mboxName()).header.uniqueId().equals(e.uniqueId())) {
                throw new CsyncException(CsyncError.MAILBOX_MOVED, e.mboxName() + " has another uniqueid");
            }
        } else if (command instanceof ApplyAnnotation a
                && !a.annotation().mboxName().orElseThrow().isEmpty()) {
            require(a.annotation().mboxName().orElseThrow());
        } else if (command instanceof ApplyUnannotation a && !a.mboxName().isEmpty()) {
            require(a.mboxName());
        } else if (command instanceof ApplyActivateSieve s && s.fileName().length() < 4) {
            throw new CsyncException(CsyncError.PROTOCOL_BAD_PARAMETERS, "bad sieve file name " + s.fileName());
        }
        return Set.of();
    }

    /** Spec 3.2 step 7 as a dry run: would our records, after this APPLY MAILBOX, have the master's CRCs? */
    public synchronized boolean crcsMatchAfter(Mailbox m) {
        if (m.isHeaderOnly()) {
            return true;
        }
        Box existing = box(m.name());
        TreeMap<Long, MessageRecord> records =
                existing == null || !existing.header.uniqueId().equals(m.uniqueId())
                        ? new TreeMap<>()
                        : new TreeMap<>(existing.records);
        merge(records, m.records());
        return SyncCrc.of(records.values()).matches(m.syncCrc(), m.syncCrcAnnot());
    }

    private Set<Guid> checkMailbox(Mailbox m, boolean force, Predicate<Guid> hasBody) throws CsyncException {
        // Steps 1-2: name/uniqueid identity.
        Box existing = box(m.name());
        if (existing == null) {
            Box sameId = byUniqueId.get(m.uniqueId());
            if (sameId != null) {
                throw new CsyncException(CsyncError.MAILBOX_MOVED, m.uniqueId() + " is " + sameId.header.name());
            }
        } else if (!existing.header.uniqueId().equals(m.uniqueId())) {
            if (!force && !existing.header.isHeaderOnly() && existing.header.lastUid() != 0) {
                throw new CsyncException(
                        CsyncError.MAILBOX_MOVED, m.name() + " has uniqueid " + existing.header.uniqueId());
            }
            existing = null; // replaced on apply, as Cyrus deletes and recreates it
        }
        if (m.isHeaderOnly()) {
            return Set.of();
        }
        requireHeaderKeys(m);
        boolean known = existing != null && !existing.header.isHeaderOnly();
        if (known) {
            checkPreconditions(m, existing, force);
        }
        return checkRecords(m, existing, known ? existing.header.lastUid() : 0, force, hasBody);
    }

    /** Steps 3-4: SINCE_* must describe our state; nothing may go backwards unless forced. */
    private static void checkPreconditions(Mailbox m, Box existing, boolean force) throws CsyncException {
        Mailbox ours = existing.header;
        SyncCrc.Pair crc = SyncCrc.of(existing.records.values());
        if (m.sinceModSeq().isPresent() && m.sinceModSeq().getAsLong() != ours.highestModSeq()) {
            throw new CsyncException(
                    CsyncError.SYNC_CHANGED,
                    "SINCE_MODSEQ " + m.sinceModSeq().getAsLong() + " but the replica holds " + ours.highestModSeq()
                            + " for " + m.name());
        }
        if (!SyncCrc.matches(m.sinceCrc(), crc.basic()) || !SyncCrc.matches(m.sinceCrcAnnot(), crc.annot())) {
            throw new CsyncException(
                    CsyncError.SYNC_CHANGED, "SINCE_CRC differs from the replica's " + crc + " for " + m.name());
        }
        if (!m.mboxType().equals(ours.mboxType())) {
            throw new CsyncException(
                    CsyncError.MAILBOX_NOTSUPPORTED,
                    m.name() + ": type " + m.mboxType() + " but the replica holds " + ours.mboxType());
        }
        if (!force
                && (m.highestModSeq() < ours.highestModSeq()
                        || m.uidValidity() < ours.uidValidity()
                        || m.lastUid() < ours.lastUid()
                        || m.xconvModSeq() < ours.xconvModSeq())) {
            throw new CsyncException(CsyncError.SYNC_CHECKSUM, "master is behind the replica on " + m.name());
        }
    }

    /** Step 5: each record against ours; a new live record needs its body. */
    private static Set<Guid> checkRecords(
            Mailbox m, Box existing, long replicaLastUid, boolean force, Predicate<Guid> hasBody)
            throws CsyncException {
        Set<Guid> incoming = new HashSet<>();
        long previousUid = 0;
        for (MessageRecord r : m.records()) {
            long uid = r.uid();
            if (uid <= previousUid) {
                throw new CsyncException(
                        CsyncError.PROTOCOL_BAD_PARAMETERS, m.name() + ": records not in ascending UID order");
            }
            previousUid = uid;
            MessageRecord old = existing == null ? null : existing.records.get(uid);
            if (old != null) {
                if (old.isExpunged() && r.isExpunged()) {
                    continue;
                }
                if (!old.guid().equals(r.guid())) {
                    throw checksum(m, uid, "has another GUID on the replica");
                }
                if (!force && old.modSeq() > r.modSeq()) {
                    throw checksum(m, uid, "is newer on the replica");
                }
                if (old.isExpunged()) {
                    throw checksum(m, uid, "is expunged on the replica");
                }
            } else if (uid <= replicaLastUid) {
                if (!r.isExpunged()) {
                    throw checksum(m, uid, "is unknown to the replica but below its LAST_UID");
                }
            } else {
                if (!r.isExpunged() && !hasBody.test(r.guid())) {
                    throw new CsyncException(
                            CsyncError.IOERROR, m.name() + " UID " + uid + ": no message file for " + r.guid());
                }
                incoming.add(r.guid());
            }
        }
        return incoming;
    }

    /** The keys a non-intermediate APPLY MAILBOX must carry (spec 3.2); the getters throw if absent. */
    private static void requireHeaderKeys(Mailbox m) throws CsyncException {
        try {
            m.partition();
            m.lastUid();
            m.recentUid();
            m.recentTime();
            m.lastAppendDate();
            m.pop3LastLogin();
            m.uidValidity();
            m.acl();
            m.options();
            m.records();
        } catch (RuntimeException e) {
            throw new CsyncException(CsyncError.PROTOCOL_BAD_PARAMETERS, m.name() + ": " + e.getMessage(), e);
        }
    }

    private static CsyncException checksum(Mailbox m, long uid, String why) {
        return new CsyncException(CsyncError.SYNC_CHECKSUM, m.name() + " UID " + uid + " " + why);
    }

    // ---- changes -------------------------------------------------------------------------------

    /** Commits a checked command (step 6). Commands that change no state (GET, RESERVE, ...) are ignored. */
    public synchronized void apply(CsyncCommand command) {
        if (command instanceof ApplyMailbox a) {
            Mailbox m = a.mailbox();
            Box existing = box(m.name());
            if (existing != null && !existing.header.uniqueId().equals(m.uniqueId())) {
                remove(existing);
                existing = null;
            }
            TreeMap<Long, MessageRecord> records = existing == null ? new TreeMap<>() : existing.records;
            merge(records, m.records());
            if (existing != null) {
                remove(existing);
            }
            put(new Box(m.header(), records));
        } else if (command instanceof ApplyRename r) {
            Box b = box(r.oldName());
            remove(b);
            b.header = b.header.renamed(r.newName(), r.partition(), r.uidValidity());
            put(b);
        } else if (command instanceof ApplyUnmailbox u) {
            forget(u.name());
        } else if (command instanceof ApplyExpunge e) {
            Box b = box(e.mboxName());
            e.uids().forEach(uid -> b.records.computeIfPresent(uid, (k, r) -> r.expunged()));
            b.header = refreshCrcs(b.header, b.records.values());
        } else if (command instanceof ApplySeen s) {
            seen.computeIfAbsent(s.seen().userId().orElseThrow(), u -> new LinkedHashMap<>())
                    .put(s.seen().uniqueId(), s.seen());
        } else if (command instanceof ApplySub s) {
            subscriptions.computeIfAbsent(s.userId(), u -> new TreeSet<>()).add(s.mboxName());
        } else if (command instanceof ApplyUnsub s) {
            Optional.ofNullable(subscriptions.get(s.userId())).ifPresent(subs -> subs.remove(s.mboxName()));
        } else if (command instanceof ApplyQuota q) {
            quotas.put(q.quota().root(), q.quota());
        } else if (command instanceof ApplyUnquota q) {
            quotas.remove(q.root());
        } else if (command instanceof ApplyAnnotation a) {
            annotate(
                    a.annotation().mboxName().orElseThrow(),
                    a.annotation().entry(),
                    a.annotation().userId(),
                    a.annotation());
        } else if (command instanceof ApplyUnannotation a) {
            annotate(a.mboxName(), a.entry(), a.userId(), null);
        } else if (command instanceof ApplySieve s && s.script().fileName().endsWith(".script")) {
            // Like Cyrus, anything but <name>.script (old masters' .bc uploads) is dropped.
            sieveScripts
                    .computeIfAbsent(s.script().userId().orElseThrow(), u -> new TreeMap<>())
                    .put(s.script().fileName(), s.script());
        } else if (command instanceof ApplyUnsieve s) {
            Optional.ofNullable(sieveScripts.get(s.userId())).ifPresent(scripts -> scripts.remove(s.fileName()));
        } else if (command instanceof ApplyActivateSieve s) {
            activeSieve.put(s.userId(), s.fileName().substring(0, s.fileName().length() - 3));
        } else if (command instanceof ApplyUnactivateSieve s) {
            activeSieve.remove(s.userId());
        } else if (command instanceof ApplyUnuser u) {
            removeUser(u.userId());
        }
    }

    /** Drops a mailbox so GET replies omit it and Cyrus sends it whole again (spec 4.10). */
    public synchronized void forget(String name) {
        Box b = box(name);
        if (b != null) {
            remove(b);
        }
    }

    /** Commands that rebuild this whole state from empty: what a snapshot stores. */
    public synchronized List<CsyncCommand> asCommands() {
        List<CsyncCommand> out = new ArrayList<>();
        for (Box b : byUniqueId.values()) {
            out.add(new ApplyMailbox(
                    b.header.isHeaderOnly() ? b.header : b.header.withRecords(List.copyOf(b.records.values()))));
        }
        seen.values().forEach(m -> m.values().forEach(s -> out.add(new ApplySeen(s))));
        subscriptions.forEach((user, subs) -> subs.forEach(name -> out.add(new ApplySub(user, name))));
        sieveScripts.values().forEach(m -> m.values().forEach(s -> out.add(new ApplySieve(s))));
        activeSieve.forEach((user, name) -> out.add(new ApplyActivateSieve(user, name + ".bc")));
        quotas.values().forEach(q -> out.add(new ApplyQuota(q)));
        serverAnnotations.values().forEach(a -> out.add(new ApplyAnnotation(a)));
        return out;
    }

    private void annotate(String mboxName, String entry, String userId, Annotation value) {
        if (mboxName.isEmpty()) {
            if (value == null) {
                serverAnnotations
                        .values()
                        .removeIf(x -> x.entry().equals(entry) && x.userId().equals(userId));
            } else {
                serverAnnotations.put(value.identity(), value);
            }
            return;
        }
        Box b = box(mboxName);
        List<Annotation> list = new ArrayList<>(b.header.annotations());
        list.removeIf(x -> x.entry().equals(entry) && x.userId().equals(userId));
        if (value != null) {
            list.add(Annotation.of(entry, userId, value.modSeq(), value.value()));
        }
        b.header = b.header.withAnnotations(list);
    }

    /** As Cyrus: every mailbox of the user but the DELETED.* ones, and the user's meta data. */
    private void removeUser(String userId) {
        for (Box b : List.copyOf(byUniqueId.values())) {
            String name = b.header.name();
            if (MailboxNames.userOf(name).filter(userId::equals).isPresent() && !MailboxNames.isDeleted(name)) {
                remove(b);
            }
        }
        subscriptions.remove(userId);
        seen.remove(userId);
        sieveScripts.remove(userId);
        activeSieve.remove(userId);
        quotas.remove(MailboxNames.inboxOf(userId));
    }

    /** The record delta of step 6: master's records replace ours, except where both are expunged. */
    private static void merge(TreeMap<Long, MessageRecord> records, List<MessageRecord> incoming) {
        for (MessageRecord r : incoming) {
            MessageRecord old = records.get(r.uid());
            if (old == null || !(old.isExpunged() && r.isExpunged())) {
                records.put(r.uid(), r);
            }
        }
    }

    /** The mailbox's CRC keys refreshed after a change the master did not describe (EXPUNGE). */
    private static Mailbox refreshCrcs(Mailbox header, Collection<MessageRecord> records) {
        SyncCrc.Pair crc = SyncCrc.of(records);
        if (header.toDList().has("SYNC_CRC")) {
            header = header.with("SYNC_CRC", DAtom.ofNumber(crc.basic()));
        }
        if (header.toDList().has("SYNC_CRC_ANNOT")) {
            header = header.with("SYNC_CRC_ANNOT", DAtom.ofNumber(crc.annot()));
        }
        return header;
    }

    private Mailbox reported(Box b) {
        if (crcReport == CrcReport.AS_RECEIVED || b.header.isHeaderOnly()) {
            return b.header;
        }
        SyncCrc.Pair crc = SyncCrc.of(b.records.values());
        return b.header.withSyncCrcs(crc.basic(), crc.annot());
    }

    /** The user's mailboxes in Cyrus listing order, tombstones left out: live ones by name, then DELETED.* ones. */
    private List<Box> boxesOf(String userId) {
        List<Box> out = new ArrayList<>();
        for (Box b : byUniqueId.values()) {
            if (!b.header.isTombstone()
                    && MailboxNames.userOf(b.header.name())
                            .filter(userId::equals)
                            .isPresent()) {
                out.add(b);
            }
        }
        out.sort(Comparator.comparing((Box b) -> MailboxNames.isDeleted(b.header.name()))
                .thenComparing(b -> b.header.name()));
        return out;
    }

    private List<Mailbox> live(List<Box> boxes) {
        return boxes.stream()
                .filter(b -> b != null && !b.header.isTombstone())
                .map(this::reported)
                .toList();
    }

    private Box box(String name) {
        String uid = uniqueIdByName.get(name);
        return uid == null ? null : byUniqueId.get(uid);
    }

    private Box require(String name) throws CsyncException {
        Box b = box(name);
        if (b == null) {
            throw new CsyncException(CsyncError.MAILBOX_NONEXISTENT, name);
        }
        return b;
    }

    private void remove(Box b) {
        byUniqueId.remove(b.header.uniqueId());
        uniqueIdByName.remove(b.header.name());
    }

    private void put(Box b) {
        byUniqueId.put(b.header.uniqueId(), b);
        uniqueIdByName.put(b.header.name(), b.header.uniqueId());
    }
}
