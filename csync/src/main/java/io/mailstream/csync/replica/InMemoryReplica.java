package io.mailstream.csync.replica;

import io.mailstream.csync.crc.SyncCrc;
import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DKvList;
import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.CsyncCommand.*;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MailboxNames;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.csync.model.SeenEntry;
import io.mailstream.csync.model.SieveEntry;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.server.CsyncHandlerFactory;
import io.mailstream.csync.server.CsyncSessionHandler;
import io.mailstream.csync.server.SessionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A csync receiver with the semantics of a Cyrus 3.6 replica (spec 3), kept in memory: the
 * APPLY MAILBOX checks (SINCE_*, lower HIGHESTMODSEQ/UIDVALIDITY/LAST_UID, record checks, final
 * CRC), RESERVE/MESSAGE staging per session, and every GET. Mailbox headers are stored exactly as
 * received (minus RECORD and SINCE_*) and echoed, unknown keys included. Thread-safe: all state
 * is guarded by one lock; the read accessors return immutable snapshots.
 */
public final class InMemoryReplica implements CsyncHandlerFactory {
    private static final Logger LOG = LoggerFactory.getLogger(InMemoryReplica.class);

    /** One stored mailbox: its echoed header and its record index by UID. */
    private static final class Box {
        Mailbox header;
        final TreeMap<Long, MessageRecord> records;

        Box(Mailbox header, TreeMap<Long, MessageRecord> records) {
            this.header = header;
            this.records = records;
        }
    }

    private record Script(long lastUpdate, byte[] content) {
    }

    private final Object lock = new Object();
    private final Map<String, Box> byUniqueId = new LinkedHashMap<>();
    private final Map<String, String> uniqueIdByName = new HashMap<>();
    private final Map<Guid, byte[]> bodies = new HashMap<>();
    private final Map<String, Map<String, SeenEntry>> seen = new HashMap<>();
    private final Map<String, TreeSet<String>> subscriptions = new HashMap<>();
    private final Map<String, TreeMap<String, Script>> sieveScripts = new HashMap<>();
    private final Map<String, String> activeSieve = new HashMap<>();
    private final Map<String, QuotaRoot> quotas = new TreeMap<>();
    private final Map<String, Annotation> serverAnnotations = new LinkedHashMap<>();
    private boolean force;

    @Override
    public CsyncSessionHandler openSession(SessionInfo session) {
        return new Session(session);
    }

    // ---- read access (snapshots) -------------------------------------------------------------

    /** Header of the mailbox with that name, as last received (no RECORD). */
    public Optional<Mailbox> mailbox(String name) {
        synchronized (lock) {
            return Optional.ofNullable(boxByName(name)).map(b -> b.header);
        }
    }

    public Optional<Mailbox> mailboxByUniqueId(String uniqueId) {
        synchronized (lock) {
            return Optional.ofNullable(byUniqueId.get(uniqueId)).map(b -> b.header);
        }
    }

    /** Every stored mailbox header, intermediates and tombstones included. */
    public List<Mailbox> mailboxes() {
        synchronized (lock) {
            return byUniqueId.values().stream().map(b -> b.header).toList();
        }
    }

    /** Record index of a mailbox by uniqueid, ascending UID, expunged records included. */
    public List<MessageRecord> records(String uniqueId) {
        synchronized (lock) {
            Box b = byUniqueId.get(uniqueId);
            return b == null ? List.of() : List.copyOf(b.records.values());
        }
    }

    /** The replica's own CRCs of a mailbox, computed from its records. */
    public Optional<SyncCrc.Pair> crcs(String uniqueId) {
        synchronized (lock) {
            Box b = byUniqueId.get(uniqueId);
            return b == null ? Optional.empty() : Optional.of(SyncCrc.of(b.records.values()));
        }
    }

    public Optional<byte[]> body(Guid guid) {
        synchronized (lock) {
            return Optional.ofNullable(bodies.get(guid)).map(byte[]::clone);
        }
    }

    public Set<Guid> bodyGuids() {
        synchronized (lock) {
            return Set.copyOf(bodies.keySet());
        }
    }

    /** Users that own at least one stored mailbox. */
    public Set<String> users() {
        synchronized (lock) {
            Set<String> users = new TreeSet<>();
            for (Box b : byUniqueId.values()) {
                MailboxNames.userOf(b.header.name()).ifPresent(users::add);
            }
            return users;
        }
    }

    /** Seen entries of a user by mailbox uniqueid (reply form, no USERID). */
    public Map<String, SeenEntry> seen(String userId) {
        synchronized (lock) {
            return Map.copyOf(seen.getOrDefault(userId, Map.of()));
        }
    }

    public Set<String> subscriptions(String userId) {
        synchronized (lock) {
            return Set.copyOf(subscriptions.getOrDefault(userId, new TreeSet<>()));
        }
    }

    /** Sieve scripts of a user by file name ({@code <name>.script}). */
    public Map<String, byte[]> sieveScripts(String userId) {
        synchronized (lock) {
            Map<String, byte[]> out = new TreeMap<>();
            sieveScripts.getOrDefault(userId, new TreeMap<>()).forEach((k, v) -> out.put(k, v.content().clone()));
            return out;
        }
    }

    /** Name (without extension) of the user's active script. */
    public Optional<String> activeSieve(String userId) {
        synchronized (lock) {
            return Optional.ofNullable(activeSieve.get(userId));
        }
    }

    public Optional<QuotaRoot> quota(String root) {
        synchronized (lock) {
            return Optional.ofNullable(quotas.get(root));
        }
    }

    /** Server-level annotations (APPLY ANNOTATION with MBOXNAME ""). */
    public List<Annotation> serverAnnotations() {
        synchronized (lock) {
            return List.copyOf(serverAnnotations.values());
        }
    }

    public boolean isForced() {
        synchronized (lock) {
            return force;
        }
    }

    // ---- internals ---------------------------------------------------------------------------

    private Box boxByName(String name) {
        String uid = uniqueIdByName.get(name);
        return uid == null ? null : byUniqueId.get(uid);
    }

    private Box requireBox(String name) throws CsyncException {
        Box b = boxByName(name);
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

    private static CsyncException checksum(String why) {
        return new CsyncException(CsyncError.SYNC_CHECKSUM, why);
    }

    /** The user's mailboxes in Cyrus listing order: live ones by name, then DELETED.* ones. */
    private List<Box> boxesOf(String userId) {
        List<Box> out = new ArrayList<>();
        for (Box b : byUniqueId.values()) {
            if (MailboxNames.userOf(b.header.name()).filter(userId::equals).isPresent() && !b.header.isTombstone()) {
                out.add(b);
            }
        }
        out.sort(Comparator.comparing((Box b) -> MailboxNames.isDeleted(b.header.name()))
                .thenComparing(b -> b.header.name()));
        return out;
    }

    private List<CsyncReply> metaReplies(String userId, boolean sieveMailbox) {
        List<CsyncReply> out = new ArrayList<>();
        seen.getOrDefault(userId, Map.of()).values().forEach(s -> out.add(new CsyncReply.SeenReply(s)));
        TreeSet<String> subs = subscriptions.get(userId);
        if (subs != null && !subs.isEmpty()) {
            out.add(new CsyncReply.LsubReply(List.copyOf(subs)));
        }
        if (!sieveMailbox) {
            sieveScripts.getOrDefault(userId, new TreeMap<>()).forEach((file, s) ->
                    // Real 3.6.1 lists the SHA-1 of the script text as GUID (not the #sieve message's GUID),
                    // so the master compares by content rather than by date.
                    out.add(new CsyncReply.SieveReply(SieveEntry.listing(file, s.lastUpdate(), false)
                            .withGuid(Guid.sha1(s.content())))));
            String active = activeSieve.get(userId);
            if (active != null) {
                out.add(new CsyncReply.SieveReply(SieveEntry.listing(active + ".bc", 0, true).withGuid(Guid.NULL)));
            }
        }
        return out;
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

    /** One csync session: its staging area and its enabled capabilities. */
    private final class Session implements CsyncSessionHandler {
        private final SessionInfo info;
        private final Map<Guid, byte[]> staged = new HashMap<>();
        private boolean sieveMailbox;

        Session(SessionInfo info) {
            this.info = info;
        }

        @Override
        public void enabled(Set<String> capabilities) {
            sieveMailbox = capabilities.contains("SIEVE-MAILBOX");
        }

        @Override
        public void restart() {
            staged.clear();
        }

        @Override
        public void close() {
            staged.clear();
        }

        @Override
        public void force() {
            synchronized (lock) {
                force = true;
            }
        }

        // ---- GET ----

        @Override
        public List<CsyncReply> getUser(GetUser cmd) {
            synchronized (lock) {
                List<CsyncReply> out = new ArrayList<>();
                List<Box> boxes = boxesOf(cmd.userId());
                boxes.forEach(b -> out.add(new CsyncReply.MailboxReply(b.header)));
                for (QuotaRoot q : quotas.values()) {
                    String root = q.root();
                    if (boxes.stream().map(b -> b.header.name()).anyMatch(n -> n.equals(root) || n.startsWith(root + "."))) {
                        out.add(new CsyncReply.QuotaReply(q));
                    }
                }
                if (boxes.stream().anyMatch(b -> !b.header.isIntermediate())) {
                    out.addAll(metaReplies(cmd.userId(), sieveMailbox));
                }
                return out;
            }
        }

        @Override
        public List<Mailbox> getMailboxes(GetMailboxes cmd) {
            synchronized (lock) {
                List<Mailbox> out = new ArrayList<>();
                for (String name : cmd.names()) {
                    Box b = boxByName(name);
                    if (b != null && !b.header.isTombstone()) {
                        out.add(b.header);
                    }
                }
                return out;
            }
        }

        @Override
        public List<Mailbox> getUniqueIds(GetUniqueIds cmd) {
            synchronized (lock) {
                return cmd.uniqueIds().stream().map(byUniqueId::get)
                        .filter(b -> b != null && !b.header.isTombstone()).map(b -> b.header).toList();
            }
        }

        @Override
        public Mailbox getFullMailbox(GetFullMailbox cmd) throws CsyncException {
            synchronized (lock) {
                Box b = requireBox(cmd.name());
                return b.header.withRecords(List.copyOf(b.records.values()));
            }
        }

        @Override
        public List<CsyncReply> getMeta(GetMeta cmd) {
            synchronized (lock) {
                return metaReplies(cmd.userId(), sieveMailbox);
            }
        }

        @Override
        public Optional<QuotaRoot> getQuota(GetQuota cmd) {
            return InMemoryReplica.this.quota(cmd.root());
        }

        @Override
        public List<Annotation> getAnnotation(GetAnnotation cmd) throws CsyncException {
            synchronized (lock) {
                if (cmd.mboxName().isEmpty()) {
                    return List.copyOf(serverAnnotations.values());
                }
                return requireBox(cmd.mboxName()).header.annotations().stream()
                        .map(a -> Annotation.forMailbox(cmd.mboxName(), a.entry(), a.userId(), a.value())).toList();
            }
        }

        @Override
        public MessageFile getFetch(GetFetch cmd) throws CsyncException {
            synchronized (lock) {
                byte[] body = bodies.get(cmd.guid());
                if (body == null) {
                    throw new CsyncException(CsyncError.MAILBOX_NONEXISTENT, "no message " + cmd.guid());
                }
                return new MessageFile(cmd.partition(), cmd.guid(), MessageBody.of(body));
            }
        }

        @Override
        public SieveEntry getFetchSieve(GetFetchSieve cmd) throws CsyncException {
            synchronized (lock) {
                Script s = sieveScripts.getOrDefault(cmd.userId(), new TreeMap<>()).get(cmd.fileName());
                if (s == null) {
                    throw new CsyncException(CsyncError.MAILBOX_NONEXISTENT, "no script " + cmd.fileName());
                }
                return SieveEntry.from(DKvList.of(List.of(
                        new DKvList.Entry("USERID", DAtom.of(cmd.userId())),
                        new DKvList.Entry("FILENAME", DAtom.of(cmd.fileName())),
                        new DKvList.Entry("CONTENT", DAtom.of(s.content())))));
            }
        }

        // ---- APPLY: messages ----

        @Override
        public List<Guid> reserve(ApplyReserve cmd) {
            synchronized (lock) {
                List<Guid> missing = new ArrayList<>();
                for (Guid g : cmd.guids()) {
                    byte[] stored = bodies.get(g);
                    if (stored != null) {
                        staged.put(g, stored);
                    } else if (!staged.containsKey(g)) {
                        missing.add(g);
                    }
                }
                return missing;
            }
        }

        @Override
        public void message(ApplyMessage cmd) throws CsyncException {
            for (MessageFile f : cmd.files()) {
                if (!f.guidMatchesBody()) {
                    throw new CsyncException(CsyncError.IOERROR, "GUID " + f.guid() + " does not match the message bytes");
                }
            }
            for (MessageFile f : cmd.files()) {
                staged.put(f.guid(), f.body().readAllBytes());
            }
        }

        // ---- APPLY MAILBOX: the seven steps of spec 3.2 ----

        @Override
        public void mailbox(ApplyMailbox cmd) throws CsyncException {
            Mailbox m = cmd.mailbox();
            synchronized (lock) {
                String name = m.name();
                Box existing = boxByName(name);
                // Steps 1-2: name/uniqueid identity.
                if (existing == null) {
                    Box sameId = byUniqueId.get(m.uniqueId());
                    if (sameId != null) {
                        throw new CsyncException(CsyncError.MAILBOX_MOVED, m.uniqueId() + " is " + sameId.header.name());
                    }
                } else if (!existing.header.uniqueId().equals(m.uniqueId())) {
                    boolean empty = existing.header.isHeaderOnly() || existing.header.lastUid() == 0;
                    if (!empty && !force) {
                        throw new CsyncException(CsyncError.MAILBOX_MOVED, name + " has uniqueid " + existing.header.uniqueId());
                    }
                    remove(existing);
                    existing = null;
                }
                if (m.isHeaderOnly()) {
                    put(new Box(m.header(), existing == null ? new TreeMap<>() : existing.records));
                    return;
                }
                if (m.mboxType().contains("f") && !sieveMailbox) {
                    throw new CsyncException(CsyncError.MAILBOX_NOTSUPPORTED, "#sieve mailbox without SIEVE-MAILBOX");
                }
                validateHeader(m);
                TreeMap<Long, MessageRecord> records = existing == null ? new TreeMap<>() : new TreeMap<>(existing.records);
                if (existing != null) {
                    checkPreconditions(m, existing);
                }
                long replicaLastUid = existing == null || existing.header.isHeaderOnly() ? 0 : existing.header.lastUid();
                Map<Guid, byte[]> newBodies = checkRecords(m.records(), records, replicaLastUid);
                // Step 6: commit.
                for (MessageRecord r : m.records()) {
                    MessageRecord old = records.get(r.uid());
                    if (old == null || !(old.isExpunged() && r.isExpunged())) {
                        records.put(r.uid(), r);
                    }
                }
                bodies.putAll(newBodies);
                Box box = new Box(m.header(), records);
                if (existing != null) {
                    remove(existing);
                }
                put(box);
                // Step 7: the master's CRCs against ours; the change stays committed either way.
                SyncCrc.Pair ours = SyncCrc.of(records.values());
                if (!ours.matches(m.syncCrc(), m.syncCrcAnnot())) {
                    LOG.info("{}: CRC mismatch after apply: ours {} master {}/{}", name, ours, m.syncCrc(), m.syncCrcAnnot());
                    throw checksum("CRC mismatch on " + name);
                }
            }
        }

        private void validateHeader(Mailbox m) {
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
        }

        /** Steps 3-4: SINCE_* must describe our state; nothing may go backwards unless forced. */
        private void checkPreconditions(Mailbox m, Box existing) throws CsyncException {
            Mailbox ours = existing.header;
            if (ours.isHeaderOnly()) {
                return;
            }
            SyncCrc.Pair crc = SyncCrc.of(existing.records.values());
            if (m.sinceModSeq().isPresent() && m.sinceModSeq().getAsLong() != ours.highestModSeq()) {
                throw new CsyncException(CsyncError.SYNC_CHANGED, "SINCE_MODSEQ " + m.sinceModSeq().getAsLong()
                        + " but replica has " + ours.highestModSeq());
            }
            if (!SyncCrc.matches(m.sinceCrc(), crc.basic()) || !SyncCrc.matches(m.sinceCrcAnnot(), crc.annot())) {
                throw new CsyncException(CsyncError.SYNC_CHANGED, "SINCE_CRC differs from replica " + crc);
            }
            if (!m.mboxType().equals(ours.mboxType())) {
                throw new CsyncException(CsyncError.MAILBOX_NOTSUPPORTED, "type " + m.mboxType() + " vs " + ours.mboxType());
            }
            if (!force && (m.highestModSeq() < ours.highestModSeq() || m.uidValidity() < ours.uidValidity()
                    || m.lastUid() < ours.lastUid() || m.xconvModSeq() < ours.xconvModSeq())) {
                throw checksum("master is behind the replica on " + m.name());
            }
        }

        /** Step 5 (dry run): returns the bodies the new records need, or fails without changing anything. */
        private Map<Guid, byte[]> checkRecords(List<MessageRecord> incoming, NavigableMap<Long, MessageRecord> records,
                                               long replicaLastUid) throws CsyncException {
            Map<Guid, byte[]> needed = new HashMap<>();
            long previousUid = 0;
            for (MessageRecord r : incoming) {
                long uid = r.uid();
                if (uid <= previousUid) {
                    throw new CsyncException(CsyncError.PROTOCOL_BAD_PARAMETERS, "records not in ascending UID order");
                }
                previousUid = uid;
                MessageRecord old = records.get(uid);
                if (old != null) {
                    if (old.isExpunged() && r.isExpunged()) {
                        continue;
                    }
                    if (!old.guid().equals(r.guid())) {
                        throw checksum("UID " + uid + " has another GUID on the replica");
                    }
                    if (!force && old.modSeq() > r.modSeq()) {
                        throw checksum("UID " + uid + " is newer on the replica");
                    }
                    if (old.isExpunged()) {
                        throw checksum("UID " + uid + " is expunged on the replica");
                    }
                } else if (uid <= replicaLastUid) {
                    if (!r.isExpunged()) {
                        throw checksum("UID " + uid + " unknown to the replica but below its LAST_UID");
                    }
                } else {
                    byte[] body = staged.containsKey(r.guid()) ? staged.get(r.guid()) : bodies.get(r.guid());
                    if (body != null) {
                        needed.put(r.guid(), body);
                    } else if (!r.isExpunged()) {
                        throw new CsyncException(CsyncError.IOERROR, "no message file for " + r.guid());
                    }
                }
            }
            return needed;
        }

        // ---- APPLY: other mailbox operations ----

        @Override
        public void unmailbox(ApplyUnmailbox cmd) throws CsyncException {
            synchronized (lock) {
                remove(requireBox(cmd.name()));
            }
        }

        @Override
        public void rename(ApplyRename cmd) throws CsyncException {
            synchronized (lock) {
                Box b = requireBox(cmd.oldName());
                Box target = boxByName(cmd.newName());
                if (target != null && target != b) {
                    throw new CsyncException(CsyncError.MAILBOX_MOVED, cmd.newName() + " exists");
                }
                remove(b);
                Mailbox h = b.header.withName(cmd.newName());
                if (h.toDList().has("PARTITION")) {
                    h = h.withPartition(cmd.partition());
                }
                if (cmd.uidValidity() != null && !h.isHeaderOnly() && cmd.uidValidity() > h.uidValidity()) {
                    h = h.withUidValidity(cmd.uidValidity());
                }
                b.header = h;
                put(b);
            }
        }

        @Override
        public void expunge(ApplyExpunge cmd) throws CsyncException {
            synchronized (lock) {
                Box b = requireBox(cmd.mboxName());
                if (!b.header.uniqueId().equals(cmd.uniqueId())) {
                    throw new CsyncException(CsyncError.MAILBOX_MOVED, cmd.mboxName() + " has another uniqueid");
                }
                for (long uid : cmd.uids()) {
                    b.records.computeIfPresent(uid, (k, r) -> r.expunged());
                }
                b.header = refreshCrcs(b.header, b.records.values());
            }
        }

        @Override
        public void seen(ApplySeen cmd) {
            synchronized (lock) {
                SeenEntry s = cmd.seen();
                seen.computeIfAbsent(s.userId().orElseThrow(), u -> new LinkedHashMap<>())
                        .put(s.uniqueId(), s.withoutUserId());
            }
        }

        @Override
        public void sub(ApplySub cmd) {
            synchronized (lock) {
                subscriptions.computeIfAbsent(cmd.userId(), u -> new TreeSet<>()).add(cmd.mboxName());
            }
        }

        @Override
        public void unsub(ApplyUnsub cmd) {
            synchronized (lock) {
                TreeSet<String> subs = subscriptions.get(cmd.userId());
                if (subs != null) {
                    subs.remove(cmd.mboxName());
                }
            }
        }

        @Override
        public void quota(ApplyQuota cmd) {
            synchronized (lock) {
                quotas.put(cmd.quota().root(), cmd.quota());
            }
        }

        @Override
        public void unquota(ApplyUnquota cmd) {
            synchronized (lock) {
                quotas.remove(cmd.root());
            }
        }

        @Override
        public void annotation(ApplyAnnotation cmd) throws CsyncException {
            Annotation a = cmd.annotation();
            String mbox = a.mboxName().orElseThrow();
            synchronized (lock) {
                if (mbox.isEmpty()) {
                    serverAnnotations.put(a.identity(), a);
                    return;
                }
                Box b = requireBox(mbox);
                List<Annotation> list = new ArrayList<>(b.header.annotations());
                list.removeIf(x -> x.entry().equals(a.entry()) && x.userId().equals(a.userId()));
                list.add(Annotation.of(a.entry(), a.userId(), a.modSeq(), a.value()));
                b.header = b.header.withAnnotations(list);
            }
        }

        @Override
        public void unannotation(ApplyUnannotation cmd) throws CsyncException {
            synchronized (lock) {
                if (cmd.mboxName().isEmpty()) {
                    serverAnnotations.values().removeIf(x -> x.entry().equals(cmd.entry()) && x.userId().equals(cmd.userId()));
                    return;
                }
                Box b = requireBox(cmd.mboxName());
                List<Annotation> list = new ArrayList<>(b.header.annotations());
                list.removeIf(x -> x.entry().equals(cmd.entry()) && x.userId().equals(cmd.userId()));
                b.header = b.header.withAnnotations(list);
            }
        }

        // ---- APPLY: sieve and users ----

        @Override
        public void sieve(ApplySieve cmd) {
            SieveEntry s = cmd.script();
            if (!s.fileName().endsWith(".script")) {
                return; // Cyrus silently drops old masters' .bc uploads
            }
            synchronized (lock) {
                sieveScripts.computeIfAbsent(s.userId().orElseThrow(), u -> new TreeMap<>())
                        .put(s.fileName(), new Script(s.lastUpdate(), s.content()));
            }
        }

        @Override
        public void unsieve(ApplyUnsieve cmd) {
            if (!cmd.fileName().endsWith(".script")) {
                return;
            }
            synchronized (lock) {
                TreeMap<String, Script> scripts = sieveScripts.get(cmd.userId());
                if (scripts != null) {
                    scripts.remove(cmd.fileName());
                }
            }
        }

        @Override
        public void activateSieve(ApplyActivateSieve cmd) throws CsyncException {
            String file = cmd.fileName();
            if (file.length() < 4) {
                throw new CsyncException(CsyncError.PROTOCOL_BAD_PARAMETERS, "bad sieve file name " + file);
            }
            synchronized (lock) {
                activeSieve.put(cmd.userId(), file.substring(0, file.length() - 3));
            }
        }

        @Override
        public void unactivateSieve(ApplyUnactivateSieve cmd) {
            synchronized (lock) {
                activeSieve.remove(cmd.userId());
            }
        }

        @Override
        public void unuser(ApplyUnuser cmd) {
            String user = cmd.userId();
            synchronized (lock) {
                // DELETED.* mailboxes survive (the conn001 transcript still lists one after UNUSER).
                for (Box b : boxesOf(user)) {
                    if (!MailboxNames.isDeleted(b.header.name())) {
                        remove(b);
                    }
                }
                subscriptions.remove(user);
                seen.remove(user);
                sieveScripts.remove(user);
                activeSieve.remove(user);
                quotas.remove(MailboxNames.inboxOf(user));
            }
            LOG.debug("session {}: removed user {}", info.sessionId(), user);
        }
    }
}
