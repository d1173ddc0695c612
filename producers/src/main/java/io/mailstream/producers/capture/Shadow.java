package io.mailstream.producers.capture;

import io.mailstream.bridge.capture.PartitionKeys;
import io.mailstream.csync.crc.SyncCrc;
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
 * What capture has told Cyrus it holds (design.md "State"): per mailbox the header exactly as
 * received (every key, unknown ones included, minus RECORD and SINCE_*) and the full record
 * index; per user seen entries, subscriptions, sieve scripts and quotas; server annotations.
 * No message bodies: those are in Kafka. {@link #check} refuses an APPLY as a Cyrus 3.6
 * replica would (spec 3.2 steps 1-5), {@link #apply} records it once Kafka holds its events.
 * Not thread-safe: {@link Capture} serialises access.
 */
final class Shadow {
    private static final class Box {
        Mailbox header;
        final TreeMap<Long, MessageRecord> records;

        Box(Mailbox header, TreeMap<Long, MessageRecord> records) {
            this.header = header;
            this.records = records;
        }
    }

    private final Map<String, Box> byUniqueId = new LinkedHashMap<>();
    private final Map<String, String> uniqueIdByName = new HashMap<>();
    private final Map<String, Map<String, SeenEntry>> seen = new TreeMap<>();
    private final Map<String, TreeSet<String>> subscriptions = new TreeMap<>();
    private final Map<String, TreeMap<String, SieveEntry>> sieveScripts = new TreeMap<>();
    private final Map<String, String> activeSieve = new TreeMap<>();
    private final Map<String, QuotaRoot> quotas = new TreeMap<>();
    private final Map<String, Annotation> serverAnnotations = new LinkedHashMap<>();

    // ---- reads ---------------------------------------------------------------------------------

    /** The header as stored, SYNC_CRC* replaced by our own CRCs as a real replica reports them. */
    Optional<Mailbox> mailbox(String name) {
        return Optional.ofNullable(box(name)).map(Shadow::reported);
    }

    List<Mailbox> mailboxes() {
        return byUniqueId.values().stream().map(Shadow::reported).toList();
    }

    Optional<Mailbox> mailboxByUniqueId(String uniqueId) {
        return Optional.ofNullable(byUniqueId.get(uniqueId)).map(Shadow::reported);
    }

    Mailbox fullMailbox(String name) throws CsyncException {
        Box b = require(name);
        return reported(b).withRecords(List.copyOf(b.records.values()));
    }

    /** GUIDs of every record under a partition key: bodies Kafka already holds on that partition. */
    Set<Guid> heldGuids(String partitionKey) {
        Set<Guid> out = new HashSet<>();
        for (Box b : byUniqueId.values()) {
            if (PartitionKeys.ofMailbox(b.header.name()).equals(partitionKey)) {
                b.records.values().forEach(r -> out.add(r.guid()));
            }
        }
        return out;
    }

    /** GET USER (spec 3.1): mailboxes (tombstones excluded, no RECORD), quotas, then meta if a real mailbox exists. */
    List<CsyncReply> user(String userId, boolean sieveMailbox) {
        List<Box> boxes = new ArrayList<>();
        for (Box b : byUniqueId.values()) {
            if (!b.header.isTombstone() && MailboxNames.userOf(b.header.name()).filter(userId::equals).isPresent()) {
                boxes.add(b);
            }
        }
        boxes.sort(Comparator.comparing((Box b) -> MailboxNames.isDeleted(b.header.name())).thenComparing(b -> b.header.name()));
        List<CsyncReply> out = new ArrayList<>();
        boxes.forEach(b -> out.add(new CsyncReply.MailboxReply(reported(b))));
        for (QuotaRoot q : quotas.values()) {
            if (boxes.stream().anyMatch(b -> b.header.name().equals(q.root()) || b.header.name().startsWith(q.root() + "."))) {
                out.add(new CsyncReply.QuotaReply(q));
            }
        }
        if (boxes.stream().anyMatch(b -> !b.header.isIntermediate())) {
            out.addAll(meta(userId, sieveMailbox));
        }
        return out;
    }

    /** GET META: seen entries, subscriptions and (without SIEVE-MAILBOX) the sieve listing. */
    List<CsyncReply> meta(String userId, boolean sieveMailbox) {
        List<CsyncReply> out = new ArrayList<>();
        seen.getOrDefault(userId, Map.of()).values().forEach(s -> out.add(new CsyncReply.SeenReply(s.withoutUserId())));
        TreeSet<String> subs = subscriptions.get(userId);
        if (subs != null && !subs.isEmpty()) {
            out.add(new CsyncReply.LsubReply(List.copyOf(subs)));
        }
        if (!sieveMailbox) {
            sieveScripts.getOrDefault(userId, new TreeMap<>()).forEach((file, s) ->
                    out.add(new CsyncReply.SieveReply(SieveEntry.listing(file, s.lastUpdate(), false))));
            String active = activeSieve.get(userId);
            if (active != null) {
                out.add(new CsyncReply.SieveReply(SieveEntry.listing(active + ".bc", 0, true).withGuid(Guid.NULL)));
            }
        }
        return out;
    }

    Optional<QuotaRoot> quota(String root) {
        return Optional.ofNullable(quotas.get(root));
    }

    List<Annotation> annotations(String mboxName) throws CsyncException {
        if (mboxName.isEmpty()) {
            return List.copyOf(serverAnnotations.values());
        }
        return require(mboxName).header.annotations().stream()
                .map(a -> Annotation.forMailbox(mboxName, a.entry(), a.userId(), a.value())).toList();
    }

    // ---- validation (before anything reaches Kafka) --------------------------------------------

    /**
     * Refuses what a Cyrus replica would refuse, without changing anything. {@code staged} tells
     * which bodies this session holds; a new live record needs one, or a body its partition holds.
     */
    void check(CsyncCommand command, boolean force, Predicate<Guid> staged) throws CsyncException {
        if (command instanceof ApplyMailbox m) {
            checkMailbox(m.mailbox(), force, staged);
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
        } else if (command instanceof ApplyAnnotation a && !a.annotation().mboxName().orElseThrow().isEmpty()) {
            require(a.annotation().mboxName().orElseThrow());
        } else if (command instanceof ApplyUnannotation a && !a.mboxName().isEmpty()) {
            require(a.mboxName());
        } else if (command instanceof ApplyActivateSieve s && s.fileName().length() < 4) {
            throw new CsyncException(CsyncError.PROTOCOL_BAD_PARAMETERS, "bad sieve file name " + s.fileName());
        }
    }

    /** Spec 3.2 step 7 as a dry run: would our records, after this APPLY, have the master's CRCs? */
    boolean crcsMatchAfter(Mailbox m) {
        if (m.isHeaderOnly()) {
            return true;
        }
        Box existing = box(m.name());
        TreeMap<Long, MessageRecord> records = existing == null || !existing.header.uniqueId().equals(m.uniqueId())
                ? new TreeMap<>() : new TreeMap<>(existing.records);
        merge(records, m.records());
        return SyncCrc.of(records.values()).matches(m.syncCrc(), m.syncCrcAnnot());
    }

    private void checkMailbox(Mailbox m, boolean force, Predicate<Guid> staged) throws CsyncException {
        Box existing = box(m.name());
        if (existing == null) {
            Box sameId = byUniqueId.get(m.uniqueId());
            if (sameId != null) {
                throw new CsyncException(CsyncError.MAILBOX_MOVED, m.uniqueId() + " is " + sameId.header.name());
            }
        } else if (!existing.header.uniqueId().equals(m.uniqueId())) {
            if (!force && !existing.header.isHeaderOnly() && existing.header.lastUid() != 0) {
                throw new CsyncException(CsyncError.MAILBOX_MOVED, m.name() + " has uniqueid " + existing.header.uniqueId());
            }
            existing = null; // replaced on apply, as Cyrus deletes and recreates it
        }
        if (m.isHeaderOnly()) {
            return;
        }
        requireHeaderKeys(m);
        boolean known = existing != null && !existing.header.isHeaderOnly();
        if (known) {
            Mailbox ours = existing.header;
            SyncCrc.Pair crc = SyncCrc.of(existing.records.values());
            if (m.sinceModSeq().isPresent() && m.sinceModSeq().getAsLong() != ours.highestModSeq()) {
                throw new CsyncException(CsyncError.SYNC_CHANGED, "SINCE_MODSEQ " + m.sinceModSeq().getAsLong()
                        + " but capture holds " + ours.highestModSeq() + " for " + m.name());
            }
            if (!SyncCrc.matches(m.sinceCrc(), crc.basic()) || !SyncCrc.matches(m.sinceCrcAnnot(), crc.annot())) {
                throw new CsyncException(CsyncError.SYNC_CHANGED, "SINCE_CRC differs from capture's " + crc + " for " + m.name());
            }
            if (!m.mboxType().equals(ours.mboxType())) {
                throw new CsyncException(CsyncError.MAILBOX_NOTSUPPORTED, m.name() + ": type " + m.mboxType()
                        + " but capture holds " + ours.mboxType());
            }
            if (!force && (m.highestModSeq() < ours.highestModSeq() || m.uidValidity() < ours.uidValidity()
                    || m.lastUid() < ours.lastUid() || m.xconvModSeq() < ours.xconvModSeq())) {
                throw new CsyncException(CsyncError.SYNC_CHECKSUM, "master is behind capture on " + m.name());
            }
        }
        checkRecords(m, known ? existing : null, force, staged);
    }

    /** Step 5: each record against ours; a new live record needs its body. */
    private void checkRecords(Mailbox m, Box existing, boolean force, Predicate<Guid> staged) throws CsyncException {
        long lastUid = existing == null ? 0 : existing.header.lastUid();
        Set<Guid> held = null;
        long previousUid = 0;
        for (MessageRecord r : m.records()) {
            long uid = r.uid();
            if (uid <= previousUid) {
                throw new CsyncException(CsyncError.PROTOCOL_BAD_PARAMETERS, m.name() + ": records not in ascending UID order");
            }
            previousUid = uid;
            MessageRecord old = existing == null ? null : existing.records.get(uid);
            if (old != null) {
                if (old.isExpunged() && r.isExpunged()) {
                    continue;
                }
                if (!old.guid().equals(r.guid())) {
                    throw checksum(m, uid, "has another GUID in capture");
                }
                if (!force && old.modSeq() > r.modSeq()) {
                    throw checksum(m, uid, "is newer in capture");
                }
                if (old.isExpunged()) {
                    throw checksum(m, uid, "is expunged in capture");
                }
            } else if (uid <= lastUid) {
                if (!r.isExpunged()) {
                    throw checksum(m, uid, "is unknown to capture but below its LAST_UID");
                }
            } else if (!r.isExpunged() && !staged.test(r.guid())) {
                if (held == null) {
                    held = heldGuids(PartitionKeys.ofMailbox(m.name()));
                }
                if (!held.contains(r.guid())) {
                    throw new CsyncException(CsyncError.IOERROR, m.name() + " UID " + uid + ": no message file for " + r.guid());
                }
            }
        }
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

    // ---- changes (only after Kafka committed them; also journal replay) -------------------------

    /** Records a validated command. Commands that change no state (GET, RESERVE, ...) are ignored. */
    void apply(CsyncCommand command) {
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
            Mailbox h = b.header.withName(r.newName());
            if (h.toDList().has("PARTITION")) {
                h = h.withPartition(r.partition());
            }
            if (r.uidValidity() != null && !h.isHeaderOnly() && r.uidValidity() > h.uidValidity()) {
                h = h.withUidValidity(r.uidValidity());
            }
            b.header = h;
            put(b);
        } else if (command instanceof ApplyUnmailbox u) {
            forget(u.name());
        } else if (command instanceof ApplyExpunge e) {
            Box b = box(e.mboxName());
            e.uids().forEach(uid -> b.records.computeIfPresent(uid, (k, r) -> r.expunged()));
        } else if (command instanceof ApplySeen s) {
            seen.computeIfAbsent(s.seen().userId().orElseThrow(), u -> new LinkedHashMap<>()).put(s.seen().uniqueId(), s.seen());
        } else if (command instanceof ApplySub s) {
            subscriptions.computeIfAbsent(s.userId(), u -> new TreeSet<>()).add(s.mboxName());
        } else if (command instanceof ApplyUnsub s) {
            Optional.ofNullable(subscriptions.get(s.userId())).ifPresent(subs -> subs.remove(s.mboxName()));
        } else if (command instanceof ApplyQuota q) {
            quotas.put(q.quota().root(), q.quota());
        } else if (command instanceof ApplyUnquota q) {
            quotas.remove(q.root());
        } else if (command instanceof ApplyAnnotation a) {
            annotate(a.annotation().mboxName().orElseThrow(), a.annotation().entry(), a.annotation().userId(), a.annotation());
        } else if (command instanceof ApplyUnannotation a) {
            annotate(a.mboxName(), a.entry(), a.userId(), null);
        } else if (command instanceof ApplySieve s && s.script().fileName().endsWith(".script")) {
            // Like Cyrus, anything but <name>.script (old masters' .bc uploads) is dropped.
            sieveScripts.computeIfAbsent(s.script().userId().orElseThrow(), u -> new TreeMap<>()).put(s.script().fileName(), s.script());
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
    void forget(String name) {
        Box b = box(name);
        if (b != null) {
            remove(b);
        }
    }

    /** Commands that rebuild this whole state from empty: what a snapshot stores. */
    List<CsyncCommand> asCommands() {
        List<CsyncCommand> out = new ArrayList<>();
        for (Box b : byUniqueId.values()) {
            out.add(new ApplyMailbox(b.header.isHeaderOnly() ? b.header : b.header.withRecords(List.copyOf(b.records.values()))));
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
            serverAnnotations.values().removeIf(x -> x.entry().equals(entry) && x.userId().equals(userId));
            if (value != null) {
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

    private static Mailbox reported(Box b) {
        if (b.header.isHeaderOnly()) {
            return b.header;
        }
        SyncCrc.Pair crc = SyncCrc.of(b.records.values());
        return b.header.withSyncCrcs(crc.basic(), crc.annot());
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
